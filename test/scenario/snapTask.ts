import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Runs the built SnapImagesFromVMs task as the agent does: a Node process with INPUT_* variables, the
 * service connection's ENDPOINT_* variables and AGENT_TEMPDIRECTORY, and reads its logging commands.
 */
export const TASK_JS = path.join(__dirname, '..', '..', '..', 'tasks', 'SnapImagesFromVMs', 'index.js');

export interface TaskRun {
  exitCode: number | null;
  /** task.complete result: Succeeded, SucceededWithIssues, Failed, Cancelled. */
  result?: string;
  resultMessage?: string;
  issues: { type: string; code: string; message: string }[];
  outputs: Record<string, string>;
  summary?: string;
  progress: number[];
  secrets: string[];
  /** Lines that are not logging commands. */
  lines: string[];
  stdout: string;
  stderr: string;
}

export interface RunningTask {
  child: ChildProcess;
  done: Promise<TaskRun>;
}

export function startSnapTask(env: Record<string, string>, inputs: Record<string, string>): RunningTask {
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snap-task-'));
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(INPUT_|ENDPOINT_|SECRET_)/i.test(key)));
  const inputEnv = Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value]));
  const child = spawn(process.execPath, [TASK_JS], {
    env: { ...inherited, ...env, ...inputEnv, AGENT_TEMPDIRECTORY: tempDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<TaskRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode) => {
      try {
        resolve(parseRun(stdout, stderr, exitCode));
      } finally {
        fs.rmSync(tempDir, { recursive: true, force: true });
      }
    });
  });
  return { child, done };
}

export function runSnapTask(env: Record<string, string>, inputs: Record<string, string>): Promise<TaskRun> {
  return startSnapTask(env, inputs).done;
}

function parseRun(stdout: string, stderr: string, exitCode: number | null): TaskRun {
  const run: TaskRun = { exitCode, issues: [], outputs: {}, progress: [], secrets: [], lines: [], stdout, stderr };
  for (const line of stdout.split(/\r?\n/)) {
    const match = /^##vso\[([\w.]+)(?: ([^\]]*))?\](.*)$/.exec(line);
    if (!match) {
      if (line) run.lines.push(line);
      continue;
    }
    const [, command, rawProperties = '', data] = match;
    const properties: Record<string, string> = {};
    for (const pair of rawProperties.split(';')) {
      const at = pair.indexOf('=');
      if (at > 0) properties[pair.slice(0, at)] = unescape(pair.slice(at + 1));
    }
    const text = unescape(data);
    switch (command) {
      case 'task.complete':
        run.result = properties.result;
        run.resultMessage = text;
        break;
      case 'task.logissue': {
        const coded = /^\[(IF\d{4})\] ([\s\S]*)$/.exec(text);
        run.issues.push({ type: properties.type, code: properties.code ?? coded?.[1] ?? '', message: coded?.[2] ?? text });
        break;
      }
      case 'task.setvariable':
        if (properties.isOutput === 'true') run.outputs[properties.variable] = text;
        break;
      case 'task.uploadsummary':
        run.summary = fs.readFileSync(text, 'utf8');
        break;
      case 'task.setprogress':
        run.progress.push(Number(properties.value));
        break;
      case 'task.setsecret':
        run.secrets.push(text);
        break;
    }
  }
  return run;
}

function unescape(value: string): string {
  return value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%5D/g, ']').replace(/%3B/g, ';').replace(/%AZP25/g, '%');
}
