/**
 * Text put into the catalog page. Every value from Azure or from files goes through `html`, in text
 * and in attribute values alike (the page always quotes attributes with `"`), so a lab or image name
 * can never open a tag, close an attribute or start a script.
 */
export function html(text: string | number): string {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** `2026-12-03 06:00 UTC`; the text given back when it is not a time. */
export function utcMinute(iso: string): string {
  const time = Date.parse(iso);
  if (!Number.isFinite(time)) return iso;
  return `${new Date(time).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
