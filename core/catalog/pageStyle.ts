/**
 * The catalog page's styles, inlined so that the page works offline and from a pipeline artifact.
 * Colours pair dark text with light fills (contrast at least 4.5:1); every state also has a word and a
 * symbol, so nothing is told by colour alone. Narrow screens stack the filters and scroll tables
 * sideways with the first column kept in view.
 */
export const PAGE_STYLE = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #4a5360; --line: #c9d1d9; --paper: #ffffff; --band: #f3f5f8; --link: #0a4fa6;
  --ok-bg: #e3f4e8; --ok-ink: #0b3d1a; --warn-bg: #fff1c2; --warn-ink: #4a3400; --bad-bg: #fde4e7; --bad-ink: #6b0a15;
  --off-bg: #eceff3; --off-ink: #3b4350; --focus: #0a4fa6; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: var(--paper); }
a { color: var(--link); }
.skip { position: absolute; left: -999px; top: 0; background: var(--paper); padding: .5rem 1rem; }
.skip:focus { left: .5rem; z-index: 10; }
header, main, footer { padding: 0 1.25rem; max-width: 1400px; margin: 0 auto; }
header { padding-top: 1rem; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin: 1.5rem 0 .5rem; }
.meta { color: var(--muted); margin: 0 0 .75rem; }
nav ul { list-style: none; display: flex; gap: 1rem; padding: 0; margin: .5rem 0 .75rem; flex-wrap: wrap; }
.counts { display: flex; flex-wrap: wrap; gap: .75rem; margin: 1rem 0; padding: 0; }
.counts div { background: var(--band); border: 1px solid var(--line); border-radius: 6px; padding: .5rem .9rem; min-width: 8.5rem; }
.counts dt { color: var(--muted); font-size: .85rem; }
.counts dd { margin: 0; font-size: 1.35rem; font-weight: 600; }
.alert { border-left: 4px solid var(--bad-ink); background: var(--bad-bg); color: var(--bad-ink); padding: .5rem .9rem; margin: .75rem 0; }
form.filters { display: flex; flex-wrap: wrap; gap: .75rem 1.25rem; align-items: flex-end; background: var(--band); border: 1px solid var(--line); border-radius: 6px; padding: .75rem .9rem; margin: 1rem 0; }
form.filters label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); gap: .2rem; }
form.filters label.check { flex-direction: row; align-items: center; gap: .4rem; color: var(--ink); font-size: .95rem; }
form.filters input[type=search], form.filters select { font: inherit; color: var(--ink); background: var(--paper); border: 1px solid #6b7685; border-radius: 4px; padding: .35rem .5rem; min-width: 11rem; }
form.filters input[type=checkbox] { width: 1.1rem; height: 1.1rem; }
#status { margin: 0 0 .5rem; color: var(--muted); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
caption { text-align: left; padding: .5rem .75rem; color: var(--muted); caption-side: top; }
th, td { text-align: left; vertical-align: top; padding: .45rem .6rem; border-bottom: 1px solid var(--line); }
thead th { background: var(--band); position: sticky; top: 0; }
tbody th { font-weight: 600; }
th button.sort { font: inherit; font-weight: 600; color: var(--ink); background: none; border: 0; padding: 0; cursor: pointer; text-align: left; }
th button.sort::after { content: " \\2195"; color: var(--muted); }
th[aria-sort=ascending] button.sort::after { content: " \\2191"; color: var(--ink); }
th[aria-sort=descending] button.sort::after { content: " \\2193"; color: var(--ink); }
.matrix tbody th, .matrix thead th:first-child { position: sticky; left: 0; background: var(--paper); z-index: 1; }
.matrix thead th:first-child { background: var(--band); z-index: 2; }
.cell { min-width: 9.5rem; }
.cell .v { font-weight: 600; display: block; word-break: break-word; }
.cell .age, .cell .more, .small { display: block; font-size: .85rem; }
.cell .mark, .unreadable-note { display: block; font-size: .85rem; font-weight: 600; }
.current { background: var(--ok-bg); color: var(--ok-ink); }
.behind, .missing { background: var(--warn-bg); color: var(--warn-ink); }
.unreadable { background: var(--bad-bg); color: var(--bad-ink); }
.not-selected, .no-image, .held { background: var(--off-bg); color: var(--off-ink); }
.retiring { display: block; font-size: .85rem; }
.tag { display: inline-block; border: 1px solid currentColor; border-radius: 3px; padding: 0 .3rem; font-size: .8rem; margin: .1rem .2rem .1rem 0; }
code { font-family: ui-monospace, SFMono-Regular, Consolas, monospace; font-size: .88em; overflow-wrap: anywhere; }
#images-table tbody th code, .matrix thead code { white-space: nowrap; }
.base { min-width: 13rem; }
.notes { min-width: 10rem; }
ul.plain { margin: 0; padding-left: 1.1rem; }
.legend { display: flex; flex-wrap: wrap; gap: .5rem; padding: 0; list-style: none; margin: .5rem 0; }
.legend li { padding: .2rem .5rem; border-radius: 4px; font-size: .85rem; }
[hidden] { display: none !important; }
footer { color: var(--muted); padding-top: 1.5rem; padding-bottom: 2rem; font-size: .85rem; }
@media (max-width: 700px) {
  header, main, footer { padding: 0 .6rem; }
  h1 { font-size: 1.3rem; }
  form.filters { flex-direction: column; align-items: stretch; }
  form.filters input[type=search], form.filters select { min-width: 0; width: 100%; }
  .counts div { min-width: 0; flex: 1 1 40%; }
  table { font-size: .85rem; }
  .cell { min-width: 8rem; }
}
`;
