/**
 * How the core tells the outside world what happens. The core never writes to stdout itself: a task
 * adapter maps a Reporter onto task-lib logging commands, tests collect into a MemoryReporter.
 */
export type Severity = 'error' | 'warning';

export interface Issue {
  severity: Severity;
  code: string;
  message: string;
  /** What to do about it. */
  fix?: string;
  /** Source location, when the issue is about a file. */
  file?: string;
  line?: number;
  column?: number;
}

export interface Reporter {
  /** A line of ordinary progress output. */
  info(message: string): void;
  /** Detail for troubleshooting, shown when system.debug is true. */
  debug(message: string): void;
  /** An error or a warning; errors make the task Failed, warnings SucceededWithIssues. */
  issue(issue: Issue): void;
  /** Overall progress of long work, 0..100. */
  progress(percent: number, activity: string): void;
  /**
   * A value that must never appear in logs: a secret, a SAS URL or its signature. One line: the agent masks
   * line by line and task-lib refuses a multi-line secret, so multi-line material is masked line by line.
   */
  maskSecret(value: string): void;
}

/** A Reporter that keeps everything, for tests and for callers that print later. */
export class MemoryReporter implements Reporter {
  readonly lines: string[] = [];
  readonly debugLines: string[] = [];
  readonly issues: Issue[] = [];
  readonly progressEvents: { percent: number; activity: string }[] = [];
  readonly secrets: string[] = [];

  info(message: string): void {
    this.lines.push(message);
  }
  debug(message: string): void {
    this.debugLines.push(message);
  }
  issue(issue: Issue): void {
    this.issues.push(issue);
  }
  progress(percent: number, activity: string): void {
    this.progressEvents.push({ percent, activity });
  }
  maskSecret(value: string): void {
    if (value) this.secrets.push(value);
  }
  get errors(): Issue[] {
    return this.issues.filter((i) => i.severity === 'error');
  }
  get warnings(): Issue[] {
    return this.issues.filter((i) => i.severity === 'warning');
  }
}

/** A Reporter that does nothing; for callers that only want a return value. */
export const silentReporter: Reporter = {
  info() {},
  debug() {},
  issue() {},
  progress() {},
  maskSecret() {},
};
