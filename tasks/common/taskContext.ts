import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tlInternal from 'azure-pipelines-task-lib/internal';
import * as tl from 'azure-pipelines-task-lib/task';
import { ErrorCodes, FactoryError, formatIssueText, isAbortError, isFactoryError } from '../../core/errors';
import { logSafe } from '../../core/format';
import type { Issue, Reporter } from '../../core/report';
import type { EndpointReader } from '../../core/azure/endpoint';
import { isGuid } from '../../core/azure/serviceConnection';
import { taskEndpointReader } from './endpoints';
import { raisedAt, readableStack } from './stack';

/**
 * The thin layer between task-lib and the core: inputs, a Reporter writing logging commands, a
 * cancellation signal wired to the agent's SIGINT/SIGTERM, the summary, output variables and the
 * task result. A task's index.ts reads its inputs here, calls the core and reports.
 */
export interface TaskContext {
  readonly reporter: TaskReporter;
  /** Aborts on cancel (SIGINT/SIGTERM from the agent) and when the task's timeout passes. */
  readonly signal: AbortSignal;
  readonly endpoints: EndpointReader;
  input(name: string, required: true): string;
  input(name: string, required?: boolean): string | undefined;
  boolInput(name: string, defaultValue: boolean): boolean;
  intInput(name: string, options: { default: number; min: number; max: number }): number;
  /**
   * A secret input (a password from a secret pipeline variable): masked, line by line, before anything
   * else runs, and returned as given (not trimmed: spaces may be part of it).
   */
  secretInput(name: string): string | undefined;
  /** An optional input that names an Azure id (a subscription): refused unless it is a GUID. */
  guidInput(name: string): string | undefined;
  /** Starts the timeout clock: after `minutes` the signal aborts and the task ends Failed. */
  setTimeoutMinutes(minutes: number): void;
  uploadSummary(title: string, markdown: string): void;
  /** Publishes a file as the run's pipeline artifact `name` (artifact.upload). */
  uploadArtifact(name: string, file: string): void;
  setOutput(name: string, value: string): void;
}

/**
 * Every line it writes is log-safe (core/format.ts): messages carry names, tags, paths and Azure's own
 * words, and printing them here, in one place, is what keeps any of them from starting a logging command.
 */
export class TaskReporter implements Reporter {
  errorCount = 0;
  warningCount = 0;
  private readonly masked = new Set<string>();

  info(message: string): void {
    console.log(logSafe(message));
  }
  debug(message: string): void {
    tl.debug(logSafe(message));
  }
  issue(issue: Issue): void {
    if (issue.severity === 'error') this.errorCount++;
    else this.warningCount++;
    const properties: Record<string, string> = { type: issue.severity, code: issue.code };
    if (issue.file) properties.sourcepath = logSafe(issue.file);
    if (issue.line !== undefined) properties.linenumber = String(issue.line);
    if (issue.column !== undefined) properties.columnnumber = String(issue.column);
    tl.command('task.logissue', properties, logSafe(formatIssueText(issue.code, issue.message, issue.fix)));
  }
  progress(percent: number, activity: string): void {
    tl.command('task.setprogress', { value: String(Math.max(0, Math.min(100, Math.round(percent)))) }, logSafe(activity));
  }
  /** An output variable: its value is printed, and read by later steps, so it is log-safe too. */
  output(name: string, value: string): void {
    tl.setVariable(name, logSafe(value), false, true);
  }
  result(result: tl.TaskResult, message: string): void {
    tl.setResult(result, logSafe(message));
  }
  /**
   * Registers a secret for the agent to mask. task-lib refuses a multi-line secret (and the agent masks
   * line by line), so a multi-line value is registered line by line, PEM armor lines aside.
   */
  maskSecret(value: string): void {
    for (const line of value.split(/\r\n|\r|\n/)) {
      const secret = line.trim();
      if (!secret || /^-----(BEGIN|END) [A-Z ]+-----$/.test(secret) || this.masked.has(secret)) continue;
      this.masked.add(secret);
      tl.setSecret(secret);
    }
  }
}

/**
 * Runs a task body and sets the result: Cancelled when the agent cancelled, Failed on any error
 * (reported, or thrown), SucceededWithIssues on warnings, else Succeeded. A FactoryError is the user's
 * to fix and is printed without a stack trace; anything else is a defect and its stack goes to debug.
 */
export async function runTask(taskName: string, body: (context: TaskContext) => Promise<string | void>): Promise<void> {
  const reporter = new TaskReporter();
  const cancel = new AbortController();
  const timeout = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const onSignal = (name: string) => () => {
    if (!cancel.signal.aborted) {
      reporter.info(`${name} received: cancelling ${taskName}; cleaning up what it started.`);
      cancel.abort();
    }
  };
  process.on('SIGINT', onSignal('SIGINT'));
  process.on('SIGTERM', onSignal('SIGTERM'));
  const signal = AbortSignal.any([cancel.signal, timeout.signal]);

  const context: TaskContext = {
    reporter,
    signal,
    endpoints: taskEndpointReader(reporter),
    input: ((name: string, required?: boolean) => {
      const value = tl.getInput(name, false)?.trim();
      if (required && !value) {
        throw new FactoryError(ErrorCodes.InputInvalid, `The input '${name}' is required.`, {
          fix: `Set '${name}' in the task's inputs.`,
          subject: name,
        });
      }
      return value || undefined;
    }) as TaskContext['input'],
    boolInput: (name, defaultValue) => {
      const value = tl.getInput(name, false)?.trim();
      if (!value) return defaultValue;
      if (/^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
      throw new FactoryError(ErrorCodes.InputInvalid, `The input '${name}' is '${value}', which is not true or false.`, {
        fix: `Set '${name}' to true or false.`,
        subject: name,
      });
    },
    intInput: (name, options) => {
      const value = tl.getInput(name, false)?.trim();
      if (!value) return options.default;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < options.min || parsed > options.max) {
        throw new FactoryError(
          ErrorCodes.InputInvalid,
          `The input '${name}' is '${value}'; it must be a whole number from ${options.min} to ${options.max}.`,
          { fix: `Set '${name}' to a whole number from ${options.min} to ${options.max}.`, subject: name },
        );
      }
      return parsed;
    },
    secretInput: (name) => {
      // tl.getInput writes `<name>=<value>` to the debug log before anyone could register the value as a
      // secret, so the value is read where task-lib keeps inputs, and masked before anything prints it.
      const value = tlInternal._vault.retrieveSecret(`INPUT_${tlInternal._getVariableKey(name)}`);
      if (!value || value.trim() === '') return undefined;
      reporter.maskSecret(value);
      return value;
    },
    guidInput: (name) => {
      const value = tl.getInput(name, false)?.trim();
      if (!value) return undefined;
      if (!isGuid(value)) {
        throw new FactoryError(ErrorCodes.InputInvalid, `The input '${name}' is '${value}', which is not a GUID (8-4-4-4-12 hexadecimal digits).`, {
          fix: `Set '${name}' to the subscription id from the subscription's overview in the Azure portal, or leave it empty for the service connection's.`,
          subject: name,
        });
      }
      return value;
    },
    setTimeoutMinutes: (minutes) => {
      if (timer) clearTimeout(timer);
      if (minutes > 0) {
        timer = setTimeout(() => {
          timedOut = true;
          timeout.abort();
        }, minutes * 60_000);
        timer.unref();
      }
    },
    uploadSummary: (title, markdown) => {
      const folder = tl.getVariable('Agent.TempDirectory') || os.tmpdir();
      const file = path.join(folder, `${taskName}-summary-${process.pid}-${Date.now()}.md`);
      fs.writeFileSync(file, markdown, 'utf8');
      tl.command('task.uploadsummary', null, file);
      reporter.debug(`${title}: summary written to ${file}`);
    },
    uploadArtifact: (name, file) => {
      tl.uploadArtifact(name, file, name);
      reporter.debug(`Published ${file} as the artifact '${name}'.`);
    },
    setOutput: (name, value) => reporter.output(name, value),
  };

  let message: string | void = undefined;
  try {
    message = await body(context);
  } catch (error) {
    if (isFactoryError(error)) {
      reporter.issue({ severity: 'error', code: error.code, message: error.message, fix: error.fix });
    } else if (!(isAbortError(error) && signal.aborted)) {
      const e = error instanceof Error ? error : new Error(String(error));
      const stack = readableStack(e);
      for (const line of stack) reporter.debug(line);
      const where = raisedAt(stack);
      reporter.issue({
        severity: 'error',
        code: ErrorCodes.Internal,
        message: `${taskName} stopped on an unexpected error: ${e.message}${where ? ` (at ${where})` : ''}`,
        fix: 'Run again with system.debug set to true and report the debug output with this message.',
      });
    }
  } finally {
    if (timer) clearTimeout(timer);
  }

  if (timedOut) {
    reporter.issue({
      severity: 'error',
      code: ErrorCodes.Timeout,
      message: `${taskName} ran out of time and stopped; what it had started was cleaned up.`,
      fix: 'Raise the task timeout, or lower the work per run; the next run picks up where this one stopped.',
    });
  }
  const counts = `${reporter.errorCount} error(s), ${reporter.warningCount} warning(s)`;
  if (cancel.signal.aborted && !timedOut) {
    reporter.result(tl.TaskResult.Cancelled, `${taskName} was cancelled. ${counts}.`);
  } else if (reporter.errorCount > 0) {
    reporter.result(tl.TaskResult.Failed, `${message ? `${message} ` : ''}${counts}.`);
  } else if (reporter.warningCount > 0) {
    reporter.result(tl.TaskResult.SucceededWithIssues, `${message ? `${message} ` : ''}${counts}.`);
  } else {
    reporter.result(tl.TaskResult.Succeeded, message || `${taskName} succeeded.`);
  }
}
