import { markdownCell } from '../format';
import { imageName, ROUTE_NAME, type CatalogModel } from './model';

/** The run summary: counts (of every route shown), the stale labs and what they lack, the labs not read, and where the page is. */
export function catalogDigest(model: CatalogModel, artifactName?: string): string {
  const { counts } = model;
  const lines = [
    '### Image catalog',
    '',
    `Factory lab ${markdownCell(model.factoryLabName)}, ${model.routes.map((route) => (route.route === 'vhd' ? ROUTE_NAME.vhd : `${ROUTE_NAME.gallery} (${markdownCell(route.sourceLabel)})`)).join(' and ')}; retention keeps ${model.imagesToSave} per ImagePath.`,
    '',
    '| Golden images | Labs | Stale labs | Labs not read | Images retention removes |',
    '|---:|---:|---:|---:|---:|',
    `| ${counts.images} | ${counts.labs} | ${counts.staleLabs} | ${counts.unreadableLabs} | ${counts.retiring} |`,
  ];
  for (const route of model.routes.filter((entry) => entry.sourceUnreadable)) {
    lines.push('', `**The ${markdownCell(route.sourceLabel)} could not be read**: which images are newest${model.routes.length > 1 ? ` on the ${ROUTE_NAME[route.route]}` : ''} is not known.`);
  }
  const stale = model.labs.filter((lab) => lab.staleCount > 0);
  const unreadable = model.labs.filter((lab) => lab.unreadable);
  if (stale.length > 0 || unreadable.length > 0) {
    lines.push('', '| Lab | Subscription | Lacks the newest of |', '|---|---|---|');
    for (const lab of stale) {
      const lacking = lab.cells.filter((cell) => cell.lacksNewest).map((cell) => `${markdownCell(imageName(model, cell))} (${markdownCell(cell.newestVersion ?? '')})`);
      lines.push(`| ${markdownCell(lab.name)} | ${markdownCell(lab.subscriptionId)} | ${lacking.join(', ')} |`);
    }
    for (const lab of unreadable) lines.push(`| ${markdownCell(lab.name)} | ${markdownCell(lab.subscriptionId)} | could not be read |`);
  } else {
    lines.push('', 'Every lab holds the newest image of every path it selects.');
  }
  if (artifactName) lines.push('', `The page is in the run's artifact **${markdownCell(artifactName)}** (Related: published artifacts), one HTML file that opens offline.`);
  return `${lines.join('\n')}\n`;
}
