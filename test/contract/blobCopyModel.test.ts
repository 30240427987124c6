import * as assert from 'node:assert/strict';
import { CopyTracker, SOURCE_AUTH_FAILED_DESCRIPTION } from '../../local-azure/storage/copies';
import { rewriteListXml } from '../../local-azure/storage/listXml';

/**
 * The copy model behind the blob front, on a hand-driven clock: state follows from start time, size
 * and rate, and from the events that end a copy early.
 */
describe('blob copy model', () => {
  const MIB = 1024 * 1024;
  let now = 0;
  let emptied: string[] = [];
  const tracker = () => {
    emptied = [];
    return new CopyTracker(1, async (key) => void emptied.push(key), () => now);
  };

  beforeEach(() => {
    now = 1_000_000;
  });

  it('is pending with progress proportional to elapsed time, then succeeds when the bytes are through', () => {
    const copies = tracker();
    const record = copies.start({ key: 'a/uploads/x.vhd', copyId: 'c1', source: 'https://src', totalBytes: 2 * MIB });
    assert.deepEqual(copies.state(record), {
      copyId: 'c1',
      source: 'https://src',
      status: 'pending',
      copiedBytes: 0,
      totalBytes: 2 * MIB,
      progress: `0/${2 * MIB}`,
    });
    now += 500;
    assert.equal(copies.state(record).progress, `${MIB / 2}/${2 * MIB}`);
    now += 1499;
    assert.equal(copies.state(record).status, 'pending');
    now += 1;
    const done = copies.state(record);
    assert.equal(done.status, 'success');
    assert.equal(done.progress, `${2 * MIB}/${2 * MIB}`);
    assert.equal(done.completedAt?.getTime(), 1_000_000 + 2000);
  });

  it('fails an injected failure at its share of the bytes, and a copy whose source SAS expires first', async () => {
    const copies = tracker();
    const failing = copies.start({ key: 'a/u/f', copyId: 'c2', source: 's', totalBytes: MIB, failAfterPercent: 40, failDescription: '500 InternalError "x"' });
    const expiring = copies.start({ key: 'a/u/e', copyId: 'c3', source: 's', totalBytes: MIB, sourceExpiresAtMs: now + 100 });
    const lasting = copies.start({ key: 'a/u/l', copyId: 'c4', source: 's', totalBytes: MIB, sourceExpiresAtMs: now + 5000 });
    now += 200;
    assert.equal(copies.state(failing).status, 'pending');
    assert.deepEqual(
      { ...copies.state(expiring), completedAt: undefined },
      { copyId: 'c3', source: 's', status: 'failed', copiedBytes: Math.floor(MIB / 10), totalBytes: MIB, progress: `${Math.floor(MIB / 10)}/${MIB}`, completedAt: undefined, description: SOURCE_AUTH_FAILED_DESCRIPTION },
    );
    now += 300;
    const failed = copies.state(failing);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.copiedBytes, Math.floor(MIB * 0.4));
    assert.equal(failed.description, '500 InternalError "x"');
    now += 1000;
    assert.equal(copies.state(lasting).status, 'success', 'a SAS that outlives the copy does not fail it');

    await copies.settle(failing);
    await copies.settle(failing);
    await copies.settle(lasting);
    assert.deepEqual(emptied, ['a/u/f'], 'a failed destination is emptied once; a successful one never');
  });

  it('ends a copy on abort or revocation only while it is pending', () => {
    const copies = tracker();
    const record = copies.start({ key: 'a/u/x', copyId: 'c5', source: 's', totalBytes: MIB, sourceDisk: 'Disk1' });
    now += 250;
    assert.deepEqual(copies.pendingFromDisk('disk1'), [record]);
    assert.equal(copies.end(record, 'aborted'), true);
    now += 5000;
    const state = copies.state(record);
    assert.equal(state.status, 'aborted');
    assert.equal(state.copiedBytes, MIB / 4);
    assert.equal(copies.end(record, 'failed'), false);
    assert.deepEqual(copies.pendingFromDisk('disk1'), []);
  });
});

describe('blob list rewriting', () => {
  const xml =
    '<EnumerationResults ServiceEndpoint="http://127.0.0.1:1000/acc" ContainerName="uploads"><Blobs>' +
    '<Blob><Name>a &amp; b.vhd</Name><Properties><Content-Length>10</Content-Length><CopyId>az</CopyId><CopyStatus>success</CopyStatus>' +
    '<CopySource>http://127.0.0.1:1000/acc/uploads/src</CopySource><CopyProgress>10/10</CopyProgress></Properties><Metadata /></Blob>' +
    '<Blob><Name>plain.vhd</Name><Properties><Content-Length>3</Content-Length></Properties></Blob>' +
    '</Blobs></EnumerationResults>';
  const state = { copyId: 'az', source: 'https://front/acc/src?a=1&b=2', status: 'pending' as const, copiedBytes: 4, totalBytes: 10, progress: '4/10' };

  it('names the front, and shows the modelled copy in place of Azurite\'s when copy properties are asked for', () => {
    const names: string[] = [];
    const out = rewriteListXml(xml, {
      azuriteOrigin: 'http://127.0.0.1:1000',
      frontOrigin: 'https://127.0.0.1:2000',
      includeCopy: true,
      copyOf: (name) => (names.push(name), name === 'a & b.vhd' ? state : undefined),
    });
    assert.deepEqual(names, ['a & b.vhd', 'plain.vhd']);
    assert.ok(out.includes('ServiceEndpoint="https://127.0.0.1:2000/acc"'));
    assert.ok(
      out.includes(
        '<Content-Length>10</Content-Length><CopyId>az</CopyId><CopyStatus>pending</CopyStatus>' +
          '<CopySource>https://front/acc/src?a=1&amp;b=2</CopySource><CopyProgress>4/10</CopyProgress></Properties>',
      ),
      out,
    );
    assert.ok(!out.includes('success'));
  });

  it('leaves copy properties out unless asked for', () => {
    const out = rewriteListXml(xml, { azuriteOrigin: 'http://127.0.0.1:1000', frontOrigin: 'https://f', includeCopy: false, copyOf: () => state });
    assert.ok(!/<Copy/.test(out), out);
    assert.ok(out.includes('<Name>a &amp; b.vhd</Name><Properties><Content-Length>10</Content-Length></Properties>'));
  });
});
