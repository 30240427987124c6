import * as assert from 'node:assert/strict';
import { accessSecondsFor, ASSUMED_COPY_BYTES_PER_SECOND, MIN_ACCESS_SECONDS } from '../../core/snap/diskAccess';

describe('disk read access lifetime', () => {
  const GIB = 1024 ** 3;
  const max = 480 * 60 + 3600;

  it('lasts the copy time at the assumed rate plus ten minutes', () => {
    const size = 512 * GIB;
    assert.equal(accessSecondsFor(size, max), Math.ceil(size / ASSUMED_COPY_BYTES_PER_SECOND) + 600);
    assert.equal(accessSecondsFor(128 * GIB, max), 6554 + 600);
  });

  it('is at least half an hour, however small the disk', () => {
    assert.equal(accessSecondsFor(1 * GIB, max), MIN_ACCESS_SECONDS);
    assert.equal(MIN_ACCESS_SECONDS, 1800);
  });

  it('never outlasts the run by more than its margin; an unknown size gets that ceiling', () => {
    assert.equal(accessSecondsFor(4 * 1024 * GIB, max), max);
    assert.equal(accessSecondsFor(undefined, max), max);
    assert.equal(accessSecondsFor(0, max), max);
  });
});
