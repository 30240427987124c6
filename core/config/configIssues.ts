import type { ErrorCode } from '../errors';
import type { Issue, Severity } from '../report';
import { ErrorCodes } from '../errors';
import { formatBytes } from '../format';
import { type FileRefusal, readBoundedFile } from './configFiles';
import { type DuplicateKey, JsonLocator, jsonPathOf, parseJson, type TextPosition } from './jsonText';

/** A file as issues name it: its full path, and the path shown in messages (`Configuration/labs.json`). */
export interface LocatedFile {
  path: string;
  display: string;
}

/**
 * Every configuration issue reads the same way, file first, so a log line alone tells where to look:
 * `Configuration/labs.json, line 7, column 25: <what is wrong>`. The issue also carries the file, line
 * and column as fields, which the agent turns into a source link.
 */
export function fileIssue(
  code: ErrorCode,
  severity: Severity,
  file: LocatedFile,
  position: TextPosition | undefined,
  text: string,
  fix: string,
): Issue {
  const where = position ? `${file.display}, line ${position.line}, column ${position.column}` : file.display;
  return {
    severity,
    code,
    message: `${where}: ${text}`,
    fix,
    file: file.path,
    ...(position ? { line: position.line, column: position.column } : {}),
  };
}

/** How a value found in a file is shown in a message: short, and with its JSON type when that matters. */
export function describeFound(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : `an array of ${value.length} item(s)`;
  switch (typeof value) {
    case 'string':
      return value.length > 80 ? `${JSON.stringify(value.slice(0, 77))}...` : JSON.stringify(value);
    case 'number':
      return `${value} (a number)`;
    case 'boolean':
      return `${value} (a boolean)`;
    case 'object':
      return 'an object';
    default:
      return String(value);
  }
}

/** Issues in reading order: file by file (those without a file first), then by position. */
export function sortIssues(issues: Issue[], fileOrder: (file: string) => number): Issue[] {
  return issues
    .map((issue, index) => ({ issue, index }))
    .sort((a, b) => {
      const fa = a.issue.file === undefined ? -1 : fileOrder(a.issue.file);
      const fb = b.issue.file === undefined ? -1 : fileOrder(b.issue.file);
      return (
        fa - fb ||
        (a.issue.line ?? 0) - (b.issue.line ?? 0) ||
        (a.issue.column ?? 0) - (b.issue.column ?? 0) ||
        a.index - b.index
      );
    })
    .map((entry) => entry.issue);
}

export type JsonFileRead = { ok: true; value: unknown; locator: JsonLocator } | { ok: false; issues: Issue[] };

export interface ReadJsonFileOptions {
  /** How messages name the file: `labs.json`, `the template`. */
  what: string;
  /** The configuration folder, resolved: the file must lie inside it. */
  root: string;
  /** The largest file read. */
  maxBytes: number;
  /** Words a file that cannot be read (missing, no permission). */
  unreadable: (error: NodeJS.ErrnoException) => { code: ErrorCode; text: string; fix: string };
  /** The code and the end of the fix for a file that is not valid JSON. */
  syntax: { code: ErrorCode; fix: string };
}

/**
 * Reads a configuration file as JSON. A file that cannot be read or parsed is an issue: `unreadable`
 * words the first; the second says "<what> is not valid JSON" with the place and `syntax.fix` after it.
 * A link out of the configuration folder (IF1015), a file over `maxBytes` (IF1016) and anything but a
 * regular file (IF1017) are refused before a byte is parsed. A property name written twice in one
 * object is an issue of its own (IF1014) per name: the file parses, but which value was meant cannot
 * be known, so it is not used.
 */
export async function readJsonFile(file: LocatedFile, options: ReadJsonFileOptions): Promise<JsonFileRead> {
  const { what, syntax } = options;
  const read = await readBoundedFile(options.root, file.path, options.maxBytes);
  if (!read.ok) return { ok: false, issues: [refusalIssue(file, what, read.refusal, options)] };
  const raw = decodeText(read.bytes);
  const parsed = parseJson(raw);
  if (parsed.ok) {
    if (parsed.duplicates.length > 0) return { ok: false, issues: parsed.duplicates.map((duplicate) => duplicateKeyIssue(file, duplicate)) };
    return { ok: true, value: parsed.value, locator: new JsonLocator(parsed.text) };
  }
  const { line, column } = parsed.position;
  return {
    ok: false,
    issues: [fileIssue(
      syntax.code,
      'error',
      file,
      parsed.position,
      `${what} is not valid JSON: ${parsed.message}.`,
      `Correct the JSON at line ${line}, column ${column}; ${syntax.fix}`,
    )],
  };
}

function refusalIssue(file: LocatedFile, what: string, refusal: FileRefusal, options: ReadJsonFileOptions): Issue {
  switch (refusal.kind) {
    case 'unreadable': {
      const problem = options.unreadable(refusal.error);
      return fileIssue(problem.code, 'error', file, undefined, problem.text, problem.fix);
    }
    case 'outside':
      return fileIssue(
        ErrorCodes.ConfigurationLinkOutside,
        'error',
        file,
        undefined,
        `${what} ${refusal.text}; the factory reads only what lies inside it.`,
        'Put the file itself in the configuration folder, or link to a file inside it.',
      );
    case 'not-regular':
      return fileIssue(ErrorCodes.ConfigurationFileNotRegular, 'error', file, undefined, `${what} ${refusal.text}.`, `Make ${what} a regular file, or remove it.`);
    case 'too-large':
      return fileIssue(
        ErrorCodes.ConfigurationFileTooLarge,
        'error',
        file,
        undefined,
        `${what} ${refusal.text}; nothing of it was read.`,
        `Keep ${what} under ${formatBytes(options.maxBytes)}; check that it is the file meant.`,
      );
  }
}

function duplicateKeyIssue(file: LocatedFile, duplicate: DuplicateKey): Issue {
  const at = (p: TextPosition) => `line ${p.line}, column ${p.column}`;
  const name = JSON.stringify(duplicate.name);
  return fileIssue(
    ErrorCodes.DuplicateJsonKey,
    'error',
    file,
    duplicate.second,
    `${jsonPathOf(duplicate.objectPointer)}: the property ${name} is written twice in one object, at ${at(duplicate.first)} and at ${at(duplicate.second)}; JSON would keep only the second and drop the first without a word.`,
    `Keep one ${name} in the object (merge the two values into it if both are wanted).`,
  );
}

/**
 * UTF-8 (with or without a byte-order mark), or UTF-16 when a byte-order mark says so: Windows
 * PowerShell's Out-File and Set-Content write UTF-16 LE, and configurations are often written that way.
 */
export function decodeText(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(2, bytes.length - (bytes.length % 2)));
    swapped.swap16();
    return swapped.toString('utf16le');
  }
  return bytes.toString('utf8');
}
