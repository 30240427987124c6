import { labsPerTemplate, loadConfiguration, type ConfigurationResult } from '../../core/config/labsConfig';
import { markdownCell as cell } from '../../core/format';
import { type Issue, reportIssues } from '../../core/report';
import { runTask } from '../common/taskContext';

const TASK = 'ValidateLabsJson';
/** The summary tab lists this many issues; the log has them all. */
const SUMMARY_ISSUES = 50;

void runTask(TASK, async (ctx) => {
  const location = ctx.input('ConfigurationLocation', true);
  ctx.reporter.info(`Checking the image factory configuration in ${location}`);
  const result = await loadConfiguration(location);
  reportIssues(ctx.reporter, result.issues);

  const errors = result.issues.filter((issue) => issue.severity === 'error').length;
  const warnings = result.issues.length - errors;
  const configuration = result.configuration;
  if (configuration) {
    const subscriptions = new Set(configuration.labs.map((lab) => lab.subscriptionId.toLowerCase())).size;
    ctx.reporter.info(
      `${plural(configuration.labs.length, 'lab')} in ${plural(subscriptions, 'subscription')}, ${plural(configuration.templates.length, 'template')}:`,
    );
    const perTemplate = labsPerTemplate(configuration);
    for (const template of configuration.templates) {
      ctx.reporter.info(`  ${template.imagePath} (${template.osType}): selected by ${plural(perTemplate.get(template.imagePath) ?? 0, 'lab')}`);
    }
    ctx.setOutput('LabCount', String(configuration.labs.length));
    ctx.setOutput('TemplateCount', String(configuration.templates.length));
  }
  ctx.uploadSummary('Image factory configuration', summaryMarkdown(location, result, errors, warnings));

  const checked = `${plural(result.checked.labs, 'lab')} and ${plural(result.checked.templates, 'template')} checked`;
  ctx.reporter.info(`${TASK}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')} (${checked}).`);
  return errors > 0 ? `The configuration in ${location} has errors.` : `The configuration in ${location} is valid (${checked}).`;
});

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function summaryMarkdown(location: string, result: ConfigurationResult, errors: number, warnings: number): string {
  const lines = [`### Image factory configuration`, '', `${cell(location)}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}.`, ''];
  const configuration = result.configuration;
  if (configuration) {
    const perTemplate = labsPerTemplate(configuration);
    lines.push(`${plural(configuration.labs.length, 'lab')}, ${plural(configuration.templates.length, 'template')}.`, '');
    lines.push('| Template | OS | Image | Labs |', '|---|---|---|---|');
    for (const template of configuration.templates) {
      const image = template.galleryImageReference;
      lines.push(
        `| ${cell(template.imagePath)} | ${template.osType} | ${cell(`${image.publisher} ${image.offer} ${image.sku} ${image.version}`)} | ${perTemplate.get(template.imagePath) ?? 0} |`,
      );
    }
    lines.push('');
  }
  if (result.issues.length > 0) {
    lines.push('| | Code | Problem |', '|---|---|---|');
    for (const issue of result.issues.slice(0, SUMMARY_ISSUES)) lines.push(issueRow(issue));
    if (result.issues.length > SUMMARY_ISSUES) lines.push('', `...and ${result.issues.length - SUMMARY_ISSUES} more in the log.`);
    lines.push('');
  }
  return lines.join('\n');
}

function issueRow(issue: Issue): string {
  return `| ${issue.severity} | ${issue.code} | ${cell(issue.message)}${issue.fix ? `<br>${cell(issue.fix)}` : ''} |`;
}
