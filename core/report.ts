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

/**
 * How many issues of one code and severity are printed before the rest are only counted. A mistake
 * repeated in 100,000 labs would otherwise write 100,000 log lines (40 MB) that no one reads; every
 * issue is still found, counted and returned, only the printing stops.
 */
export const ISSUES_SHOWN_PER_CODE = 50;

export interface ReportIssuesOptions {
  /** Issues printed per code and severity; ISSUES_SHOWN_PER_CODE by default. */
  perCode?: number;
  /** Issues to print as debug output rather than as errors or warnings. */
  asDebug?: (issue: Issue) => boolean;
}

/**
 * Reports issues in their order, the first `perCode` of each code and severity, then one issue per
 * code saying how many more there are, so the agent's count of errors and warnings stays honest.
 */
export function reportIssues(reporter: Reporter, issues: readonly Issue[], options: ReportIssuesOptions = {}): void {
  const perCode = options.perCode ?? ISSUES_SHOWN_PER_CODE;
  const seen = new Map<string, { issue: Issue; count: number; debug: boolean }>();
  for (const issue of issues) {
    const debug = options.asDebug?.(issue) ?? false;
    const key = `${debug ? 'debug' : issue.severity} ${issue.code}`;
    const entry = seen.get(key) ?? { issue, count: 0, debug };
    entry.count++;
    seen.set(key, entry);
    if (entry.count > perCode) continue;
    if (debug) reporter.debug(`[${issue.code}] ${issue.message}`);
    else reporter.issue(issue);
  }
  for (const { issue, count, debug } of seen.values()) {
    if (count <= perCode) continue;
    const more = count - perCode;
    const message = `...and ${more} more ${issue.code} ${issue.severity}(s) like the above, not shown (${count} in all); every one was checked.`;
    if (debug) reporter.debug(`[${issue.code}] ${message}`);
    else {
      reporter.issue({
        severity: issue.severity,
        code: issue.code,
        message,
        fix: `The first ${perCode} are shown; they often share one cause. Fix it and run again to see what is left.`,
      });
    }
  }
}
