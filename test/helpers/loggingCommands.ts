/**
 * Reads the logging commands a task writes to its output, `##vso[area.action key=value;...]data`, as the
 * agent reads them. task-lib escapes % as %AZP25 and CR/LF as %0D/%0A in both parts, and also ] and ; in
 * property values, where they would end the command or the property. The agent looks for `##vso[`
 * anywhere in a line (case-sensitive) and takes the whole line as that command, so this does too.
 */
export const LOGGING_COMMAND_PREFIX = '##vso[';
export interface LoggingCommand {
  /** `area.action`, e.g. `task.logissue`. */
  command: string;
  properties: Record<string, string>;
  data: string;
}

// %AZP25 last, so that an escaped "%0A" written by the task comes back as the text "%0A".
const unescapeData = (text: string): string => text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%AZP25/g, '%');
const unescapeProperty = (text: string): string =>
  text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%5D/g, ']').replace(/%3B/g, ';').replace(/%AZP25/g, '%');

/** The logging command on `line`, or undefined when the line is not one. */
export function parseLoggingCommand(line: string): LoggingCommand | undefined {
  const at = line.indexOf(LOGGING_COMMAND_PREFIX);
  if (at < 0) return undefined;
  const match = /^##vso\[([^\s\]]+)(?:\s([^\]]*))?\](.*)$/.exec(line.slice(at));
  if (!match) return undefined;
  const properties: Record<string, string> = {};
  for (const pair of (match[2] ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at > 0) properties[pair.slice(0, at).trim()] = unescapeProperty(pair.slice(at + 1));
  }
  return { command: match[1], properties, data: unescapeData(match[3]) };
}

/** The lines of a task's output as the agent reads them (.NET's ReadLine): CR, LF and CRLF each end a line. */
export function outputLines(output: string): string[] {
  return output.split(/\r\n|\r|\n/);
}

/** Every logging command in a task's output, in order. */
export function loggingCommands(output: string): LoggingCommand[] {
  return outputLines(output)
    .map(parseLoggingCommand)
    .filter((command): command is LoggingCommand => command !== undefined);
}
