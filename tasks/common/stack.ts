import * as fs from 'node:fs';
import { SourceMap } from 'node:module';
import * as path from 'node:path';

/**
 * Stack traces of internal errors (IF9001) as a user reports them: the shipped bundles are minified, so
 * each frame in a bundle is put back to the TypeScript file, line and column it came from, through the
 * source map beside the bundle. The map is read only when an internal error happens, so it costs a run
 * nothing otherwise (unlike `--enable-source-maps`, which loads every map at start).
 */

/** A stack frame's location: `at fn (file:line:column)` or `at file:line:column`. */
const FRAME = /^(\s*at (?:.*? \()?)(.+?):(\d+):(\d+)(\)?)$/;

const maps = new Map<string, SourceMap | undefined>();

function mapOf(file: string): SourceMap | undefined {
  if (!maps.has(file)) {
    let map: SourceMap | undefined;
    try {
      map = new SourceMap(JSON.parse(fs.readFileSync(`${file}.map`, 'utf8')));
    } catch {
      map = undefined;
    }
    maps.set(file, map);
  }
  return maps.get(file);
}

/** `../../core/snap/apply.ts` as the product names its files: `core/snap/apply.ts`. */
function sourceName(source: string): string {
  return source.replace(/\\/g, '/').replace(/^(\.\.?\/)+/, '');
}

/** A frame's location in the TypeScript sources, or undefined when it has none (Node, a dependency). */
export function originalLocation(file: string, line: number, column: number): { source: string; line: number; column: number } | undefined {
  if (file.startsWith('node:') || !path.isAbsolute(file)) return undefined;
  const entry = mapOf(file)?.findEntry(line - 1, column - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number } | undefined;
  if (!entry?.originalSource || entry.originalLine === undefined || entry.originalColumn === undefined) return undefined;
  // The maps keep only where a dependency's code starts (scripts/build.mjs): its lines would be wrong.
  if (/(^|\/)node_modules\//.test(entry.originalSource)) return undefined;
  return { source: sourceName(entry.originalSource), line: entry.originalLine + 1, column: entry.originalColumn + 1 };
}

/** The stack with every frame that has a TypeScript source named by it. */
export function readableStack(error: Error): string[] {
  return (error.stack ?? `${error.name}: ${error.message}`).split(/\r?\n/).map((text) => {
    const frame = FRAME.exec(text);
    if (!frame) return text;
    const location = originalLocation(frame[2], Number(frame[3]), Number(frame[4]));
    return location ? `${frame[1]}${location.source}:${location.line}:${location.column}${frame[5]}` : text;
  });
}

/** Where the error was raised in the product's own code: the first frame with a TypeScript source. */
export function raisedAt(stack: readonly string[]): string | undefined {
  for (const text of stack) {
    const frame = FRAME.exec(text);
    if (frame && /\.ts$/.test(frame[2])) return `${frame[2]}:${frame[3]}`;
  }
  return undefined;
}
