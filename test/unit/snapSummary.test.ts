import * as assert from 'node:assert/strict';
import type { SnapOutcome } from '../../core/snap/apply';
import { formatBytes, formatDuration } from '../../core/format';
import { type SnapRunResult, snapSummaryMarkdown } from '../../core/snap/run';

const lab = { id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.DevTestLab/labs/Factory', subscriptionId: 's', resourceGroup: 'rg', name: 'Factory', location: 'westus2' };

function result(outcomes: SnapOutcome[], dryRun = false): SnapRunResult {
  return { lab, plan: { createdUtc: '', actions: [], discard: [], foreignPending: [] }, outcomes, savedImageNames: [], dryRun };
}

const vm = (name: string, imagePath?: string) => ({ name, id: `${lab.id}/virtualmachines/${name}`, imagePath });

describe('snap summary', () => {
  it('tabulates each tagged VM with its outcome and lists untagged VMs apart', () => {
    const markdown = snapSummaryMarkdown(
      result([
        { vm: vm('win', 'Win2016\\Datacenter.json'), status: 'saved', imageName: 'Win2016_Datacenter-Nov-24-2026', imagePath: 'Win2016\\Datacenter.json', sizeBytes: 136 * 1024 ** 3, durationMs: 754_000, message: 'saved' },
        { vm: vm('ubu', 'Linux/Ubuntu.json'), status: 'failed', imageName: 'Linux_Ubuntu-Nov-24-2026', imagePath: 'Linux/Ubuntu.json', message: '[IF2007] copy | failed' },
        { vm: vm('w10', 'Win10/Pro.json'), status: 'skipped', imagePath: 'Win10/Pro.json', message: '[IF3001] running' },
        { vm: vm('jump'), status: 'ignored', message: 'no ImagePath tag' },
      ]),
    );
    const lines = markdown.split('\n');
    assert.equal(lines[0], '### Images saved from lab Factory');
    assert.equal(lines[2], '4 VM(s): 1 saved, 1 failed, 1 skipped, 1 not tagged.');
    assert.ok(lines.includes('| win | Win2016\\Datacenter.json | Win2016_Datacenter-Nov-24-2026 | 136.0 GiB | 12 min 34 s | ✅ saved |'), markdown);
    assert.ok(lines.includes('| ubu | Linux/Ubuntu.json | Linux_Ubuntu-Nov-24-2026 |  |  | ❌ failed: [IF2007] copy \\| failed |'), markdown);
    assert.ok(lines.includes('| w10 | Win10/Pro.json |  |  |  | ⚠️ skipped: [IF3001] running |'), markdown);
    assert.ok(!lines.some((l) => l.startsWith('| jump ')));
    assert.ok(lines.includes('VMs without an ImagePath tag, left alone: jump.'));
  });

  it('says when nothing was changed', () => {
    const markdown = snapSummaryMarkdown(result([{ vm: vm('win', 'W/x.json'), status: 'planned', imageName: 'W_x-Nov-24-2026', imagePath: 'W/x.json', message: '' }], true));
    assert.match(markdown, /^### Images saved from lab Factory \(dry run: nothing was changed\)\n\n1 VM\(s\): 1 to be saved\./);
    assert.match(markdown, /\| win \| W\/x\.json \| W_x-Nov-24-2026 \|  \|  \| 📝 to be saved \|/);
    assert.match(snapSummaryMarkdown(result([])), /The lab has no VMs\./);
  });

  it('writes sizes and durations as people read them', () => {
    assert.deepEqual([0, 512, 1024, 1536, 10 * 1024 ** 2, 1024 ** 3, 127.5 * 1024 ** 3].map(formatBytes), ['0 B', '512 B', '1.0 KiB', '1.5 KiB', '10.0 MiB', '1.0 GiB', '127.5 GiB']);
    assert.deepEqual([400, 59_400, 61_000, 3_723_000].map(formatDuration), ['0 s', '59 s', '1 min 1 s', '1 h 2 min']);
  });
});
