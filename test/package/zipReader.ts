import { inflateRawSync } from 'node:zlib';

/**
 * Reads the entries of a .zip (a .vsix is one) from its central directory, so the package tests need no
 * `unzip` on the machine. Handles what tfx-cli writes: stored and deflated entries, no ZIP64.
 */
export function readZip(archive: Buffer): Map<string, Buffer> {
  const endOfDirectory = findEndOfCentralDirectory(archive);
  const entryCount = archive.readUInt16LE(endOfDirectory + 10);
  let at = archive.readUInt32LE(endOfDirectory + 16);
  const entries = new Map<string, Buffer>();
  for (let i = 0; i < entryCount; i++) {
    if (archive.readUInt32LE(at) !== 0x02014b50) throw new Error(`Bad central directory entry at offset ${at}`);
    const method = archive.readUInt16LE(at + 10);
    const compressedSize = archive.readUInt32LE(at + 20);
    const size = archive.readUInt32LE(at + 24);
    const nameLength = archive.readUInt16LE(at + 28);
    const extraLength = archive.readUInt16LE(at + 30);
    const commentLength = archive.readUInt16LE(at + 32);
    const localHeader = archive.readUInt32LE(at + 42);
    const name = archive.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;

    if (archive.readUInt32LE(localHeader) !== 0x04034b50) throw new Error(`Bad local header for ${name}`);
    const dataStart = localHeader + 30 + archive.readUInt16LE(localHeader + 26) + archive.readUInt16LE(localHeader + 28);
    const raw = archive.subarray(dataStart, dataStart + compressedSize);
    let data: Buffer;
    if (method === 0) data = Buffer.from(raw);
    else if (method === 8) data = inflateRawSync(raw);
    else throw new Error(`${name} uses compression method ${method}, which this reader does not know`);
    if (data.length !== size) throw new Error(`${name}: ${data.length} bytes inflated, ${size} expected`);
    entries.set(name, data);
  }
  return entries;
}

function findEndOfCentralDirectory(archive: Buffer): number {
  // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  for (let at = archive.length - 22; at >= Math.max(0, archive.length - 22 - 0xffff); at--) {
    if (archive.readUInt32LE(at) === 0x06054b50) return at;
  }
  throw new Error('Not a zip archive: no end of central directory record');
}
