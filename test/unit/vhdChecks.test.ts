import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { vhdBootGeneration, vhdProblem } from '../../local-azure/devTestLabs/vhdChecks';
import { pageBlobHeader, readVhdFooter, vhdFooter } from '../../local-azure/storage/pageBlobContent';

const MIB = 1024 * 1024;
const URL = 'https://store/lab/uploads/image.vhd';

function vhd(sizeBytes: number, footer = vhdFooter(sizeBytes, randomBytes(16)), blobType = 'PageBlob', facts: Record<string, string> = {}) {
  return { blobType, sizeBytes, head: pageBlobHeader('lab', 'uploads', 'image.vhd', sizeBytes, facts), tail: footer };
}

describe('VHD checks of a custom image', () => {
  it('writes a footer that reads back as a fixed VHD with a valid checksum', () => {
    assert.deepEqual(readVhdFooter(vhdFooter(8 * MIB + 512, randomBytes(16))), { cookie: 'conectix', diskType: 2, currentSize: 8 * MIB, checksumValid: true });
  });

  it('takes a fixed VHD page blob of a whole number of MiB plus the footer', () => {
    assert.equal(vhdProblem(URL, vhd(8 * MIB + 512)), undefined);
  });

  it('refuses, with InvalidVhd, a block blob, a size off the MiB grid, a missing cookie, a dynamic VHD, a bad checksum and a footer of another size', () => {
    const footer = vhdFooter(8 * MIB + 512, randomBytes(16));
    const dynamic = Buffer.from(footer);
    dynamic.writeUInt32BE(3, 60);
    const tampered = Buffer.from(footer);
    tampered.writeUInt32BE(1, 24);
    const cases: [ReturnType<typeof vhd>, RegExp][] = [
      [vhd(8 * MIB + 512, footer, 'BlockBlob'), /is a BlockBlob/],
      [vhd(8 * MIB, vhdFooter(8 * MIB, randomBytes(16))), /unsupported virtual size of 8388096 bytes/],
      [vhd(512, footer), /unsupported virtual size of 0 bytes/],
      [vhd(8 * MIB + 512, Buffer.alloc(512)), /not 'conectix'/],
      [vhd(8 * MIB + 512, dynamic), /is a dynamic VHD/],
      [vhd(8 * MIB + 512, tampered), /checksum does not match/],
      [vhd(16 * MIB + 512, footer), /gives a disk size of 8388608 bytes/],
    ];
    for (const [blob, message] of cases) {
      const problem = vhdProblem(URL, blob);
      assert.equal(problem?.code, 'InvalidVhd', String(message));
      assert.equal(problem?.status, 400);
      assert.match(problem!.message, message);
    }
  });

  it('reads what the OS on a VHD boots with from its first sector, Generation 1 when it does not say', () => {
    assert.equal(vhdBootGeneration(vhd(8 * MIB + 512, undefined, 'PageBlob', { boot: 'uefi-gpt' })), 'V2');
    assert.equal(vhdBootGeneration(vhd(8 * MIB + 512, undefined, 'PageBlob', { boot: 'bios-mbr' })), 'V1');
    assert.equal(vhdBootGeneration({ ...vhd(8 * MIB + 512), head: Buffer.alloc(512) }), 'V1');
  });
});
