// Runs a built task locally the way the agent does, and shows its logging commands readably.
//
//   npm run task -- <TaskName> [--<Input> <value> | --<Input>=<value>]... [--debug] [--raw]
//   npm run task -- <TaskName> --help          lists the task's inputs
//
// Inputs become INPUT_<NAME> variables; inputs not given take their task.json default, with
// $(Build.SourcesDirectory) read as BUILD_SOURCESDIRECTORY (and $(Build.ArtifactStagingDirectory) as
// BUILD_ARTIFACTSTAGINGDIRECTORY), or else the current folder. The current environment
// passes through, so the ENDPOINT_* variables `npm run local-azure` prints reach the task.
// AGENT_TEMPDIRECTORY is a fresh temporary folder, removed afterwards.
// The exit code follows the task's result: 0 for Succeeded and SucceededWithIssues, 1 otherwise.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../..');

const useColor = process.env.FORCE_COLOR ? process.env.FORCE_COLOR !== '0' : process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code) => (text) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : text);
const red = paint('31');
const yellow = paint('33');
const green = paint('32');
const dim = paint('2');
const bold = paint('1');

// Logging commands are read as the tests read them (test/helpers/loggingCommands.ts, compiled into out/ by
// `npm run build`), so what this shows is what the tests assert on.
const loggingCommandsJs = join(root, 'out', 'test', 'helpers', 'loggingCommands.js');
const require = createRequire(import.meta.url);

export function taskFolder(taskName, taskRoot = join(root, 'tasks')) {
  return join(taskRoot, taskName);
}

export function taskManifest(taskName, taskRoot) {
  const file = join(taskFolder(taskName, taskRoot), 'task.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

/** The names of the tasks: the folders that hold a task.json. */
function taskNames(taskRoot) {
  return readdirSync(taskRoot ?? join(root, 'tasks')).filter((name) => taskManifest(name, taskRoot));
}

const sourcesDirectory = () => process.env.BUILD_SOURCESDIRECTORY || process.cwd();
const artifactStagingDirectory = () => process.env.BUILD_ARTIFACTSTAGINGDIRECTORY || process.cwd();

/**
 * The INPUT_* variables for a run: the given inputs (names matched to task.json without case, as the agent
 * does) over the task.json defaults. Throws naming the input when a name is not the task's.
 */
export function inputEnvironment(manifest, given) {
  const declared = new Map((manifest.inputs ?? []).map((input) => [input.name.toUpperCase(), input]));
  const env = {};
  for (const input of declared.values()) {
    if (input.defaultValue !== undefined && input.defaultValue !== '') {
      env[`INPUT_${input.name.toUpperCase()}`] = String(input.defaultValue)
        .replace(/\$\(Build\.SourcesDirectory\)/gi, sourcesDirectory())
        .replace(/\$\(Build\.ArtifactStagingDirectory\)/gi, artifactStagingDirectory());
    }
  }
  for (const [name, value] of Object.entries(given)) {
    if (!declared.has(name.toUpperCase())) {
      throw new Error(`${manifest.name} has no input '${name}'. Its inputs: ${[...declared.values()].map((i) => i.name).join(', ')}.`);
    }
    env[`INPUT_${name.toUpperCase()}`] = value;
  }
  return env;
}

/**
 * Turns the task's output into readable lines. Secrets registered with task.setsecret are masked in every
 * later line, as the agent masks them in the pipeline log.
 */
export class LogRenderer {
  constructor({ write = (text) => process.stdout.write(`${text}\n`), debug = false, raw = false } = {}) {
    this.parse = require(loggingCommandsJs).parseLoggingCommand;
    this.write = write;
    this.debug = debug;
    this.raw = raw;
    this.secrets = [];
    this.result = undefined;
    this.resultMessage = '';
    this.outputs = {};
    this.errors = [];
    this.warnings = [];
  }

  mask(text) {
    let masked = text;
    for (const secret of this.secrets) masked = masked.split(secret).join('***');
    return masked;
  }

  flushHeld() {
    if (this.held) this.write(this.held.rendered);
    this.held = undefined;
  }

  line(text) {
    const command = this.parse(text);
    if (this.raw) {
      this.write(text);
      if (command?.command === 'task.complete') this.result = command.properties.result ?? 'Succeeded';
      return;
    }
    if (!command) {
      this.flushHeld();
      if (text.startsWith('##[debug]')) {
        if (this.debug) this.write(dim(this.mask(text.slice('##[debug]'.length))));
      } else {
        this.write(this.mask(text));
      }
      return;
    }
    const { properties: p, data } = command;
    if (this.held && command.command !== 'task.debug') {
      if (!(command.command === 'task.complete' && this.mask(data) === this.held.text)) this.write(this.held.rendered);
      this.held = undefined;
    }
    switch (command.command) {
      case 'task.debug':
        if (this.debug) this.write(dim(`debug: ${this.mask(data)}`));
        break;
      case 'task.setsecret':
        if (data) this.secrets.push(data);
        break;
      case 'task.issue':
      case 'task.logissue': {
        const isError = p.type === 'error';
        const text = this.mask(data);
        (isError ? this.errors : this.warnings).push({ ...p, message: text });
        // The file and position go in front unless the message already says where.
        const file = p.sourcepath && !text.includes(basename(p.sourcepath)) ? p.sourcepath : undefined;
        const where = file ? `${file}${p.linenumber ? `:${p.linenumber}${p.columnnumber ? `:${p.columnnumber}` : ''}` : ''} ` : '';
        const code = p.code && !text.startsWith(`[${p.code}]`) ? `[${p.code}] ` : '';
        const rendered = (isError ? red : yellow)(`${isError ? 'error' : 'warning'}: ${where}${code}${text}`);
        // task-lib repeats the result message as an issue just before task.complete; show it once.
        if (p.source === 'TaskInternal') this.held = { rendered, text };
        else this.write(rendered);
        break;
      }
      case 'task.setprogress':
        this.write(dim(`[${String(p.value ?? '?').padStart(3)}%] ${this.mask(data)}`));
        break;
      case 'task.uploadsummary': {
        this.write(bold('--- summary ---'));
        try {
          this.write(this.mask(readFileSync(data, 'utf8').trimEnd()));
        } catch (error) {
          this.write(yellow(`(summary file ${data} could not be read: ${error.message})`));
        }
        this.write(bold('---------------'));
        break;
      }
      case 'task.setvariable': {
        const secret = /^true$/i.test(p.issecret ?? '');
        if (secret && data) this.secrets.push(data);
        if (/^true$/i.test(p.isOutput ?? p.isoutput ?? '')) this.outputs[p.variable] = secret ? undefined : data;
        const kind = /^true$/i.test(p.isOutput ?? p.isoutput ?? '') ? 'output' : 'variable';
        this.write(`${kind} ${p.variable} = ${secret ? '***' : this.mask(data)}`);
        break;
      }
      case 'task.complete': {
        this.result = p.result ?? 'Succeeded';
        this.resultMessage = this.mask(data);
        const color = this.result === 'Succeeded' ? green : this.result === 'SucceededWithIssues' ? yellow : red;
        this.write(color(bold(`result: ${this.result}${this.resultMessage ? ` - ${this.resultMessage}` : ''}`)));
        break;
      }
      default:
        this.write(dim(this.mask(text)));
    }
  }
}

export const resultExitCode = (result) => (result === 'Succeeded' || result === 'SucceededWithIssues' ? 0 : 1);

/**
 * Runs tasks/<taskName>/index.js with the given inputs and renders its output. Resolves with the task's
 * result (the last task.complete), its output variables and the exit code the CLI uses.
 */
export async function runTask(taskName, inputs = {}, { debug = false, raw = false, env = {}, taskRoot, write } = {}) {
  const manifest = taskManifest(taskName, taskRoot);
  if (!manifest) {
    throw new Error(`There is no task '${taskName}'. Tasks: ${taskNames(taskRoot).join(', ')}.`);
  }
  const entry = join(taskFolder(taskName, taskRoot), 'index.js');
  for (const built of [entry, loggingCommandsJs]) {
    if (!existsSync(built)) throw new Error(`${built} does not exist; run \`npm run build\` first.`);
  }

  const tempDir = mkdtempSync(join(tmpdir(), `${taskName}-`));
  const renderer = new LogRenderer({ debug, raw, write });
  const child = spawn(process.execPath, [entry], {
    cwd: process.cwd(),
    env: {
      ...process.env,
      ...inputEnvironment(manifest, inputs),
      AGENT_TEMPDIRECTORY: tempDir,
      ...(debug ? { SYSTEM_DEBUG: 'true' } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Cancel as the agent does: pass SIGINT/SIGTERM on and stay alive while the task cleans up and reports.
  // (Ctrl+C in a terminal also reaches the task directly; the task treats a second signal as the same cancel.)
  const onSigint = () => child.kill('SIGINT');
  const onSigterm = () => child.kill('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  try {
    const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
    lines.on('line', (line) => renderer.line(line));
    const exit = await new Promise((resolveExit) => child.on('close', (code, signal) => resolveExit({ code, signal })));
    renderer.flushHeld();
    const result = renderer.result;
    if (!result) {
      renderer.write(red(`${taskName} ended (${exit.signal ?? `exit code ${exit.code}`}) without setting a result.`));
    }
    return { result, exitCode: result ? resultExitCode(result) : 1, outputs: renderer.outputs, errors: renderer.errors, warnings: renderer.warnings };
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    rmSync(tempDir, { recursive: true, force: true });
  }
}

function usage(taskName) {
  const manifest = taskName && taskManifest(taskName);
  if (!manifest) {
    return `Usage: npm run task -- <TaskName> [--<Input> <value>]... [--debug] [--raw]\nTasks: ${taskNames().join(', ')}`;
  }
  const lines = [`${manifest.name}: ${manifest.description}`, 'Inputs:'];
  for (const input of manifest.inputs ?? []) {
    const details = [input.type, input.required ? 'required' : undefined, input.defaultValue !== undefined && input.defaultValue !== '' ? `default ${input.defaultValue}` : undefined];
    lines.push(`  --${input.name} (${details.filter(Boolean).join(', ')})  ${input.label}`);
  }
  return lines.join('\n');
}

export function parseArguments(argv) {
  const [taskName, ...rest] = argv;
  const inputs = {};
  const flags = { debug: false, raw: false, help: !taskName || taskName.startsWith('-') };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (!arg.startsWith('--')) throw new Error(`Expected --<Input>, found '${arg}'.`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s);
    if (name === 'debug' || name === 'raw' || name === 'help') {
      flags[name] = true;
      continue;
    }
    if (inline !== undefined) inputs[name] = inline;
    else if (i + 1 < rest.length && !rest[i + 1].startsWith('--')) inputs[name] = rest[++i];
    else inputs[name] = 'true';
  }
  return { taskName, inputs, ...flags };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // Output piped into `head` and the like: stop quietly when the reader goes away.
  process.stdout.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  try {
    const args = parseArguments(process.argv.slice(2));
    if (args.help) {
      console.log(usage(args.taskName));
    } else {
      const { exitCode } = await runTask(args.taskName, args.inputs, { debug: args.debug, raw: args.raw });
      process.exitCode = exitCode;
    }
  } catch (error) {
    console.error(red(error instanceof Error ? error.message : String(error)));
    process.exitCode = 2;
  }
}
