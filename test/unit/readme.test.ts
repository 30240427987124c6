import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot, taskFolders } from '../package/taskFolders';

/*
 * The commands README.md shows must work as written: the scripts, scenario files, tasks, inputs and
 * folders they name exist, and a task run against the local Azure names a lab of the scenario the same
 * example starts. Versions it states are those the tasks declare.
 */

const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
const scripts = Object.keys((JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);

/** The shell code blocks, each a list of commands (comments and continuation aside). */
function shellBlocks(markdown: string): string[][] {
  const blocks: string[][] = [];
  for (const match of markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    blocks.push(
      match[1]
        .split('\n')
        .map((line) => line.replace(/\s+#.*$/, '').trim())
        .filter((line) => line && !line.startsWith('#')),
    );
  }
  return blocks;
}

/** `--Name value` and `--flag` pairs after `npm run task -- <Task>`. */
function taskArguments(command: string): { task: string; args: Map<string, string | true> } | undefined {
  const match = /^npm run task -- (\S+)(.*)$/.exec(command);
  if (!match) return undefined;
  const words = match[2].trim().split(/\s+/).filter(Boolean);
  const args = new Map<string, string | true>();
  for (let i = 0; i < words.length; i++) {
    const name = words[i].replace(/^--/, '');
    if (words[i + 1] && !words[i + 1].startsWith('--')) args.set(name, words[++i]);
    else args.set(name, true);
  }
  return { task: match[1], args };
}

const manifest = (task: string) => JSON.parse(fs.readFileSync(path.join(repoRoot, 'tasks', task, 'task.json'), 'utf8')) as {
  minimumAgentVersion: string;
  inputs: { name: string }[];
};

describe('README commands', () => {
  const blocks = shellBlocks(readme);

  it('run scripts package.json has', () => {
    for (const command of blocks.flat()) {
      for (const match of command.matchAll(/npm run ([\w:-]+)/g)) assert.ok(scripts.includes(match[1]), `npm run ${match[1]}: no such script`);
    }
  });

  it('start the local Azure with scenario files that exist', () => {
    for (const command of blocks.flat()) {
      const scenario = /npm run local-azure -- .*--scenario (\S+)/.exec(command)?.[1];
      if (scenario) assert.ok(fs.existsSync(path.join(repoRoot, scenario)), `${scenario} does not exist`);
    }
  });

  it('run tasks that exist, with inputs they declare and folders that exist', () => {
    for (const command of blocks.flat()) {
      const run = taskArguments(command);
      if (!run) continue;
      assert.ok(taskFolders().includes(run.task), `no task ${run.task}`);
      const declared = manifest(run.task).inputs.map((input) => input.name.toLowerCase());
      for (const [name, value] of run.args) {
        if (['debug', 'raw', 'help'].includes(name)) continue;
        assert.ok(declared.includes(name.toLowerCase()), `${run.task} has no input ${name}`);
        if (name === 'ConfigurationLocation' && typeof value === 'string') assert.ok(fs.existsSync(path.join(repoRoot, value)), `${value} does not exist`);
      }
    }
  });

  it('name a lab of the scenario the example starts', () => {
    for (const block of blocks) {
      let labs: string[] | undefined;
      for (const command of block) {
        const scenario = /npm run local-azure -- .*--scenario (\S+)/.exec(command)?.[1];
        if (scenario) {
          labs = (JSON.parse(fs.readFileSync(path.join(repoRoot, scenario), 'utf8')) as { labs: { name: string }[] }).labs.map((lab) => lab.name);
        }
        const lab = taskArguments(command)?.args.get('DevTestLabName');
        if (typeof lab !== 'string') continue;
        assert.ok(labs, `'${command}' runs against a local Azure that no command of its example starts`);
        assert.ok(labs.includes(lab), `lab ${lab} is not in the scenario the example starts (its labs: ${labs.join(', ')})`);
      }
    }
  });

  it("state the agent version the tasks declare", () => {
    const versions = new Set(taskFolders().map((task) => manifest(task).minimumAgentVersion));
    assert.equal(versions.size, 1, `the tasks declare ${[...versions].join(', ')}`);
    const [version] = versions;
    const errors = fs.readFileSync(path.join(repoRoot, 'docs', 'errors.md'), 'utf8');
    for (const [file, text] of [['README.md', readme], ['docs/errors.md', errors]]) {
      for (const match of text.matchAll(/agent (?:version )?(\d+\.\d+(?:\.\d+)?)/gi)) assert.equal(match[1], version, `${file}: '${match[0]}'`);
    }
  });
});
