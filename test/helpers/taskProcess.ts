import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { outputLines, parseLoggingCommand } from './loggingCommands';

/**
 * Runs a built task (tasks/<Task>/index.js) as the agent does: a Node process with INPUT_* variables,
 * the service connection's ENDPOINT_* variables and AGENT_TEMPDIRECTORY, and reads back its logging
 * commands: result, issues, output variables, the summary, progress.
 */
export interface TaskIssue {
  type: string;
  code?: string;
  message: string;
}

export interface TaskRun {
  exitCode: number | null;
  killedBy: NodeJS.Signals | null;
  /** `Succeeded`, `SucceededWithIssues`, `Failed`, `Cancelled`; undefined when the process died first. */
  result?: string;
  resultMessage?: string;
  issues: TaskIssue[];
  outputs: Record<string, string>;
  /** The markdown the task uploaded as its summary. */
  summary?: string;
  progress: number[];
  /** Values registered with task.setsecret, which the agent masks in the log. */
  secrets: string[];
  /** Lines that are not logging commands. */
  lines: string[];
  stdout: string;
  stderr: string;
}

export interface StartedTask {
  child: ChildProcess;
  done: Promise<TaskRun>;
}

const root = path.resolve(__dirname, '../../..');

export function startTask(
  task: string,
  inputs: Record<string, string>,
  env: Record<string, string | undefined>,
  options: { onLine?: (line: string) => void } = {},
): StartedTask {
  const script = path.join(root, 'tasks', task, 'index.js');
  if (!fs.existsSync(script)) throw new Error(`${script} is not built; run npm run build first`);
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), `${task}-agent-`));
  // Inputs and service connections come only from the arguments, never from the test's own environment.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(INPUT_|ENDPOINT_|SECRET_)/i.test(key)));
  const childEnv: Record<string, string | undefined> = { ...inherited, ...env, AGENT_TEMPDIRECTORY: temp };
  for (const [name, value] of Object.entries(inputs)) childEnv[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  const child = spawn(process.execPath, [script], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    stdout += chunk;
    pending += chunk;
    const parts = outputLines(pending);
    pending = parts.pop() ?? '';
    for (const line of parts) options.onLine?.(line);
  });
  child.stderr!.on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<TaskRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode, killedBy) => {
      try {
        resolve({ exitCode, killedBy, stdout, stderr, ...parseLog(stdout) });
      } finally {
        fs.rmSync(temp, { recursive: true, force: true });
      }
    });
  });
  return { child, done };
}

export function runTaskProcess(task: string, inputs: Record<string, string>, env: Record<string, string | undefined>): Promise<TaskRun> {
  return startTask(task, inputs, env).done;
}

type Log = Pick<TaskRun, 'result' | 'resultMessage' | 'issues' | 'outputs' | 'summary' | 'progress' | 'secrets' | 'lines'>;

function parseLog(stdout: string): Log {
  const run: Log = { issues: [], outputs: {}, progress: [], secrets: [], lines: [] };
  for (const line of outputLines(stdout)) {
    const command = parseLoggingCommand(line);
    if (!command) {
      if (line) run.lines.push(line);
      continue;
    }
    const { properties, data } = command;
    if (command.command === 'task.complete') {
      run.result = properties.result;
      run.resultMessage = data;
    } else if (command.command === 'task.logissue') {
      run.issues.push({ type: properties.type, code: properties.code, message: data });
    } else if (command.command === 'task.setvariable' && properties.variable) {
      run.outputs[properties.variable] = data;
    } else if (command.command === 'task.uploadsummary') {
      run.summary = fs.readFileSync(data, 'utf8');
    } else if (command.command === 'task.setprogress') {
      run.progress.push(Number(properties.value));
    } else if (command.command === 'task.setsecret') {
      run.secrets.push(data);
    }
  }
  return run;
}

/** A failure message that shows what the task printed. */
export function describeRun(run: TaskRun): string {
  return `result ${run.result} (exit ${run.exitCode}${run.killedBy ? `, ${run.killedBy}` : ''})\n${run.stdout}\n${run.stderr}`;
}
