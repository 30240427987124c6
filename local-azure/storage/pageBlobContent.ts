/**
 * The only bytes written into a local page blob: a first page naming the blob, so a copy can be told
 * from its source byte for byte, and a fixed-VHD footer in the last 512 bytes, as an exported managed
 * disk has. Everything in between stays unwritten (sparse), whatever the blob's size.
 */
export const PAGE_SIZE = 512;

const HEADER_MAGIC = 'LOCAL-AZURE PAGE BLOB';

/**
 * The first page of a page blob created by the local storage. `facts` are further `name=value` lines
 * that stand for what real bytes would show (a disk's partition style, say); copies carry them.
 */
export function pageBlobHeader(account: string, container: string, blob: string, sizeBytes: number, facts: Record<string, string> = {}): Buffer {
  const page = Buffer.alloc(PAGE_SIZE);
  const lines = [HEADER_MAGIC, `account=${account}`, `container=${container}`, `blob=${blob}`, `size=${sizeBytes}`];
  for (const [name, value] of Object.entries(facts)) lines.push(`${name}=${value}`);
  page.write(`${lines.join('\n')}\n`, 'utf8');
  return page;
}

/** The `name=value` lines of a first page that pageBlobHeader wrote, or undefined for any other bytes. */
export function readPageBlobHeader(page: Buffer): Record<string, string> | undefined {
  const text = page.subarray(0, PAGE_SIZE).toString('utf8').replace(/\0+$/, '');
  const [magic, ...lines] = text.split('\n');
  if (magic !== HEADER_MAGIC) return undefined;
  const facts: Record<string, string> = {};
  for (const line of lines) {
    const equals = line.indexOf('=');
    if (equals > 0) facts[line.slice(0, equals)] = line.slice(equals + 1);
  }
  return facts;
}

/** CHS geometry as the VHD specification derives it from the disk size. */
function vhdGeometry(diskBytes: number): { cylinders: number; heads: number; sectorsPerTrack: number } {
  const totalSectors = Math.min(Math.floor(diskBytes / 512), 65535 * 16 * 255);
  let sectorsPerTrack: number;
  let heads: number;
  let cylinderTimesHeads: number;
  if (totalSectors >= 65535 * 16 * 63) {
    sectorsPerTrack = 255;
    heads = 16;
    cylinderTimesHeads = Math.floor(totalSectors / sectorsPerTrack);
  } else {
    sectorsPerTrack = 17;
    cylinderTimesHeads = Math.floor(totalSectors / sectorsPerTrack);
    heads = Math.max(4, Math.floor((cylinderTimesHeads + 1023) / 1024));
    if (cylinderTimesHeads >= heads * 1024 || heads > 16) {
      sectorsPerTrack = 31;
      heads = 16;
      cylinderTimesHeads = Math.floor(totalSectors / sectorsPerTrack);
    }
    if (cylinderTimesHeads >= heads * 1024) {
      sectorsPerTrack = 63;
      heads = 16;
      cylinderTimesHeads = Math.floor(totalSectors / sectorsPerTrack);
    }
  }
  return { cylinders: Math.floor(cylinderTimesHeads / heads), heads, sectorsPerTrack };
}

/** A fixed-disk VHD footer for a blob of `blobBytes` (footer included). */
export function vhdFooter(blobBytes: number, uniqueId: Buffer): Buffer {
  const footer = Buffer.alloc(PAGE_SIZE);
  const diskBytes = blobBytes - PAGE_SIZE;
  footer.write('conectix', 0, 'ascii');
  footer.writeUInt32BE(0x00000002, 8); // features: reserved bit always set
  footer.writeUInt32BE(0x00010000, 12); // format version 1.0
  footer.writeBigUInt64BE(0xffffffffffffffffn, 16); // fixed disks have no dynamic header
  footer.writeUInt32BE(Math.max(0, Math.floor((Date.now() - Date.UTC(2000, 0, 1)) / 1000)), 24);
  footer.write('lazr', 28, 'ascii');
  footer.writeUInt32BE(0x00010000, 32);
  footer.write('Wi2k', 36, 'ascii');
  footer.writeBigUInt64BE(BigInt(diskBytes), 40);
  footer.writeBigUInt64BE(BigInt(diskBytes), 48);
  const geometry = vhdGeometry(diskBytes);
  footer.writeUInt16BE(geometry.cylinders, 56);
  footer.writeUInt8(geometry.heads, 58);
  footer.writeUInt8(geometry.sectorsPerTrack, 59);
  footer.writeUInt32BE(2, 60); // disk type: fixed
  uniqueId.copy(footer, 68, 0, 16);
  let sum = 0;
  for (const byte of footer) sum += byte;
  footer.writeUInt32BE(~sum >>> 0, 64);
  return footer;
}

/** A VHD footer's fields that tell whether it is a fixed VHD (see the VHD specification, "Hard Disk Footer Format"). */
export interface VhdFooterFields {
  cookie: string;
  /** 2 fixed, 3 dynamic, 4 differencing. */
  diskType: number;
  currentSize: number;
  checksumValid: boolean;
}

export const VHD_DISK_TYPE_FIXED = 2;

/** The footer's fields, or undefined when `footer` is not 512 bytes. */
export function readVhdFooter(footer: Buffer): VhdFooterFields | undefined {
  if (footer.length !== PAGE_SIZE) return undefined;
  const stored = footer.readUInt32BE(64);
  let sum = 0;
  footer.forEach((byte, index) => {
    // The checksum is the one's complement of the sum of every byte but its own four.
    if (index < 64 || index >= 68) sum += byte;
  });
  return {
    cookie: footer.toString('latin1', 0, 8),
    diskType: footer.readUInt32BE(60),
    currentSize: Number(footer.readBigUInt64BE(48)),
    checksumValid: (~sum >>> 0) === stored,
  };
}
