/** How sizes, durations and table cells are written for people, in logs and in summaries. */

/** `512 B`, `1.5 KiB`, `136.0 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** `59 s`, `12 min 34 s`, `1 h 2 min`. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes} min ${seconds % 60} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Line breaks the agent (CR, LF), the web log viewer or a terminal would break a line on. */
const LINE_BREAKS = /\r\n|[\r\n\v\f\u0085\u2028\u2029]/g;
/**
 * Other control characters (terminal escapes, NUL, DEL, C1) and the bidirectional overrides that make a
 * line read otherwise than it is written.
 */
const CONTROLS = /[\u0000-\u0008\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** `##vso[` starts a logging command anywhere in a line; `##[` a formatting command (`##[error]`, `##[group]`). */
const COMMAND_PREFIXES = /##(?=vso\[|\[)/gi;

/**
 * Log-safe text: one line that cannot start a logging or formatting command, whatever it holds. Line
 * breaks become spaces, other control characters U+FFFD, and the `##` of `##vso[` and `##[` becomes `**`
 * (as the agent itself neutralises commands). The task adapter makes everything it prints log-safe, so
 * a value from Azure or from a file never has to be escaped where it is put into a message.
 */
export function logSafe(text: string): string {
  return text.replace(LINE_BREAKS, ' ').replace(CONTROLS, '\uFFFD').replace(COMMAND_PREFIXES, '**');
}

/**
 * Text safe inside a markdown table cell: log-safe, no HTML of its own (`<`, `>` and `&` as entities) and
 * no cell separator (`|` escaped, and a backslash before it too, so that it cannot escape the escape).
 */
export function markdownCell(text: string): string {
  return logSafe(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\\(?=\|)/g, '\\\\')
    .replace(/\|/g, '\\|');
}

/** `3 saved, 1 skipped`: how many outcomes have each status, in the order statuses first appear. */
export function statusTally<S extends string>(statuses: readonly S[], names: Record<S, { tally: string }>): string {
  const counts = new Map<S, number>();
  for (const status of statuses) counts.set(status, (counts.get(status) ?? 0) + 1);
  return [...counts].map(([status, n]) => `${n} ${names[status].tally}`).join(', ');
}
