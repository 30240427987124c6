import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { formatBytes } from '../format';

/**
 * Reading the configuration folder as untrusted input: a pull request can change it, and with it what
 * every later stage does. The factory reads only what lies inside the folder (a symbolic link may point
 * elsewhere inside it, never out of it), only regular files, and only up to a size no real
 * configuration reaches, so a labs.json linked to /dev/zero or a GoldenImages linked to /usr is refused
 * instead of read.
 */

/** labs.json: 150,000 labs written out with indentation take about 40 MB. */
export const MAX_LABS_FILE_BYTES = 64 * 1024 * 1024;
/** A template: Azure Resource Manager itself refuses templates over 4 MB. */
export const MAX_TEMPLATE_FILE_BYTES = 4 * 1024 * 1024;
/** Folder levels below GoldenImages that the walk enters (GoldenImages/a/b is 2). */
export const MAX_GOLDEN_IMAGES_DEPTH = 16;
/** Files and folders under GoldenImages that the walk looks at, in all. */
export const MAX_GOLDEN_IMAGES_ENTRIES = 10_000;

/** Why a configuration file was not read; `text` completes "<file> ...". */
export type FileRefusal =
  | { kind: 'outside'; text: string }
  | { kind: 'not-regular'; text: string }
  | { kind: 'too-large'; text: string }
  | { kind: 'unreadable'; error: NodeJS.ErrnoException };

export type BoundedRead = { ok: true; bytes: Buffer } | { ok: false; refusal: FileRefusal };

/** Whether `real` (a resolved path) is `root` or lies below it. */
export function isInside(root: string, real: string): boolean {
  const relative = path.relative(root, real);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * Where `file` really is, when that is inside `root` (itself resolved); otherwise why not. A missing
 * file is left to the reader to report.
 */
export async function resolveInside(root: string, file: string): Promise<{ ok: true; real: string } | { ok: false; refusal: FileRefusal }> {
  let real: string;
  try {
    real = await fs.realpath(file);
  } catch (error) {
    return { ok: false, refusal: { kind: 'unreadable', error: error as NodeJS.ErrnoException } };
  }
  if (isInside(root, real)) return { ok: true, real };
  return {
    ok: false,
    refusal: { kind: 'outside', text: `is a symbolic link to '${real}', outside the configuration folder '${root}'` },
  };
}

/**
 * The bytes of `file`, when it lies inside `root`, is a regular file and holds at most `maxBytes`. At
 * most `maxBytes + 1` bytes are read whatever the file claims, so a file that grows while it is read
 * is refused too.
 */
export async function readBoundedFile(root: string, file: string, maxBytes: number): Promise<BoundedRead> {
  const inside = await resolveInside(root, file);
  if (!inside.ok) return inside;
  let handle: fs.FileHandle;
  try {
    // Non-blocking, so that opening a FIFO returns at once instead of waiting for a writer.
    handle = await fs.open(inside.real, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    return { ok: false, refusal: { kind: 'unreadable', error: error as NodeJS.ErrnoException } };
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return { ok: false, refusal: { kind: 'not-regular', text: `is not a regular file (${kindOf(stat)})` } };
    const limit = `the ${formatBytes(maxBytes)} a configuration file may hold`;
    const tooLarge = (size?: number): BoundedRead => ({
      ok: false,
      refusal: { kind: 'too-large', text: size === undefined ? `holds more than ${limit}` : `holds ${size} bytes, more than ${limit}` },
    });
    if (stat.size > maxBytes) return tooLarge(stat.size);
    const buffer = Buffer.alloc(Math.min(stat.size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) return tooLarge();
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) return tooLarge();
    }
    return { ok: true, bytes: buffer.subarray(0, length) };
  } catch (error) {
    return { ok: false, refusal: { kind: 'unreadable', error: error as NodeJS.ErrnoException } };
  } finally {
    await handle.close();
  }
}

function kindOf(stat: import('node:fs').Stats): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isFIFO()) return 'a named pipe';
  if (stat.isSocket()) return 'a socket';
  return 'not a file';
}
