import * as fs from 'node:fs';
import * as path from 'node:path';

/** The repository's root, from the compiled test's place in out/test/<folder>/. */
export const repoRoot = path.resolve(__dirname, '../../..');

/** The task folders of the product: each folder of tasks/ that holds a task.json, by name. */
export function taskFolders(): string[] {
  const tasksDir = path.join(repoRoot, 'tasks');
  return fs
    .readdirSync(tasksDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && fs.existsSync(path.join(tasksDir, entry.name, 'task.json')))
    .map((entry) => entry.name)
    .sort();
}
