import { markdownCell } from '../format';
import type { CatalogModel } from './model';

/** The run summary: counts, the stale labs and what they lack, the labs not read, and where the page is. */
export function catalogDigest(model: CatalogModel, artifactName?: string): string {
  const { counts } = model;
  const lines = [
    '### Image catalog',
    '',
    `Factory lab ${markdownCell(model.factoryLabName)}, ${model.route === 'vhd' ? 'VHD route' : 'gallery route'}; retention keeps ${model.imagesToSave} per ImagePath.`,
    '',
    '| Golden images | Labs | Stale labs | Labs not read | Images retention removes |',
    '|---:|---:|---:|---:|---:|',
    `| ${counts.images} | ${counts.labs} | ${counts.staleLabs} | ${counts.unreadableLabs} | ${counts.retiring} |`,
  ];
  if (model.sourceUnreadable) lines.push('', `**The ${markdownCell(model.sourceLabel)} could not be read**: which images are newest is not known.`);
  const stale = model.labs.filter((lab) => lab.staleCount > 0);
  const unreadable = model.labs.filter((lab) => lab.unreadable);
  if (stale.length > 0 || unreadable.length > 0) {
    lines.push('', '| Lab | Subscription | Lacks the newest of |', '|---|---|---|');
    for (const lab of stale) {
      const lacking = lab.cells.filter((cell) => cell.lacksNewest).map((cell) => `${markdownCell(cell.imagePath)} (${markdownCell(cell.newestVersion ?? '')})`);
      lines.push(`| ${markdownCell(lab.name)} | ${markdownCell(lab.subscriptionId)} | ${lacking.join(', ')} |`);
    }
    for (const lab of unreadable) lines.push(`| ${markdownCell(lab.name)} | ${markdownCell(lab.subscriptionId)} | could not be read |`);
  } else {
    lines.push('', 'Every lab holds the newest image of every path it selects.');
  }
  if (artifactName) lines.push('', `The page is in the run's artifact **${markdownCell(artifactName)}** (Related: published artifacts), one HTML file that opens offline.`);
  return `${lines.join('\n')}\n`;
}
