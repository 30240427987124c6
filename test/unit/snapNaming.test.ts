import * as assert from 'node:assert/strict';
import { ErrorCodes, FactoryError } from '../../core/errors';
import {
  collisionSuffix,
  imageBaseName,
  imageDateStamp,
  imageNameFor,
  isValidImageName,
  MAX_IMAGE_NAME_LENGTH,
} from '../../core/snap/naming';

const nov24 = new Date('2026-11-24T10:00:00Z');
const none = new Set<string>();

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof FactoryError);
    assert.equal(error.code, ErrorCodes.ImageNameInvalid);
    assert.match(error.message, pattern);
    assert.ok(error.fix);
    return true;
  });
}

describe('snap image naming', () => {
  it('names an image <Folder>_<File>-<date> and a top-level template <File>-<date>', () => {
    assert.equal(imageNameFor('Win2016\\Datacenter.json', nov24, none).imageName, 'Win2016_Datacenter-Nov-24-2026');
    assert.equal(imageNameFor('Win2016/Datacenter.json', nov24, none).imageName, 'Win2016_Datacenter-Nov-24-2026');
    assert.equal(imageNameFor('Ubuntu.json', nov24, none).imageName, 'Ubuntu-Nov-24-2026');
  });

  it('joins nested folders with _ and ignores empty and "." segments', () => {
    assert.equal(imageNameFor('Win2016\\SQL\\2019\\Enterprise.json', nov24, none).imageName, 'Win2016_SQL_2019_Enterprise-Nov-24-2026');
    assert.equal(imageNameFor('.\\Win2016\\\\SQL/Dev.json', nov24, none).imageName, 'Win2016_SQL_Dev-Nov-24-2026');
  });

  it('drops only a trailing .json, in any case, and turns other dots into _', () => {
    assert.equal(imageNameFor('Ubuntu/18.04.JSON', nov24, none).imageName, 'Ubuntu_18_04-Nov-24-2026');
    assert.equal(imageNameFor('Linux/rhel.8.json', nov24, none).imageName, 'Linux_rhel_8-Nov-24-2026');
    assert.equal(imageNameFor('json.json/x.json', nov24, none).imageName, 'json_json_x-Nov-24-2026');
    assert.equal(imageNameFor('Win10/Pro.template', nov24, none).imageName, 'Win10_Pro_template-Nov-24-2026');
  });

  it('turns spaces into - and keeps case', () => {
    assert.equal(imageNameFor('Win 10/Pro N Edition.json', nov24, none).imageName, 'Win-10_Pro-N-Edition-Nov-24-2026');
    assert.equal(imageNameFor(' Win2016 / Datacenter.json', nov24, none).imageName, 'Win2016-_-Datacenter-Nov-24-2026');
  });

  it('stamps the UTC date with an English month and a two-digit day, whatever the local time zone', () => {
    assert.equal(imageDateStamp(new Date('2026-01-05T00:00:00Z')), 'Jan-05-2026');
    assert.equal(imageDateStamp(new Date('2026-12-31T23:59:59.999Z')), 'Dec-31-2026');
    assert.equal(imageDateStamp(new Date('2027-03-01T00:30:00+02:00')), 'Feb-28-2027');
    assert.equal(imageNameFor('a.json', new Date('2026-05-09T23:00:00-03:00'), none).imageName, 'a-May-10-2026');
  });

  it('appends A, then B, ... when the store already holds the name, comparing without case', () => {
    const taken = new Set(['win2016_datacenter-nov-24-2026']);
    const first = imageNameFor('Win2016\\Datacenter.json', nov24, taken);
    assert.equal(first.imageName, 'Win2016_Datacenter-Nov-24-2026A');
    assert.match(first.note ?? '', /already in the image store/);
    taken.add(first.imageName.toLowerCase());
    assert.equal(imageNameFor('Win2016\\Datacenter.json', nov24, taken).imageName, 'Win2016_Datacenter-Nov-24-2026B');
    // A name from another day is no collision.
    assert.equal(imageNameFor('Win2016\\Datacenter.json', new Date('2026-11-25T00:00:00Z'), taken).imageName, 'Win2016_Datacenter-Nov-25-2026');
  });

  it('goes on past Z with two letters', () => {
    assert.deepEqual([0, 1, 25, 26, 27, 51, 52, 701, 702].map(collisionSuffix), ['A', 'B', 'Z', 'AA', 'AB', 'AZ', 'BA', 'ZZ', 'AAA']);
    const taken = new Set<string>(['x-nov-24-2026']);
    for (let i = 0; i < 26; i++) taken.add(`x-nov-24-2026${collisionSuffix(i)}`.toLowerCase());
    assert.equal(imageNameFor('x.json', nov24, taken).imageName, 'x-Nov-24-2026AA');
  });

  it('makes characters a custom image name cannot hold safe, and says which', () => {
    const result = imageNameFor('Win2016/Datacenter+SQL (2019)#1.json', nov24, none);
    assert.equal(result.imageName, 'Win2016_Datacenter_SQL-_2019__1-Nov-24-2026');
    assert.ok(isValidImageName(result.imageName));
    for (const char of ['+', '(', ')', '#']) assert.ok(result.note?.includes(`'${char}'`), `note names ${char}: ${result.note}`);
    assert.equal(imageNameFor('Café/Crème.json', nov24, none).imageName, 'Cafe_Creme-Nov-24-2026');
    assert.equal(imageNameFor('Café/Crème.json', nov24, none).note, undefined);
    assert.equal(imageNameFor('_private/x.json', nov24, none).imageName, 'private_x-Nov-24-2026');
  });

  it('says so, naming the ImagePath, when no valid name can be made', () => {
    rejects(() => imageNameFor('', nov24, none), /ImagePath '' .*empty/);
    rejects(() => imageNameFor('C:\\Golden\\x.json', nov24, none), /absolute/);
    rejects(() => imageNameFor('../x.json', nov24, none), /GoldenImages/);
    rejects(() => imageNameFor('#/!.json', nov24, none), /no letter or digit/);
    rejects(() => imageNameFor(`${'a'.repeat(MAX_IMAGE_NAME_LENGTH)}.json`, nov24, none), /longer than/);
    assert.equal(imageBaseName(`${'a'.repeat(MAX_IMAGE_NAME_LENGTH - 12)}.json`).base.length, MAX_IMAGE_NAME_LENGTH - 12);
    assert.equal(imageNameFor(`${'a'.repeat(MAX_IMAGE_NAME_LENGTH - 12)}.json`, nov24, none).imageName.length, MAX_IMAGE_NAME_LENGTH);
  });

  it('accepts only names valid for custom images and blobs', () => {
    assert.ok(isValidImageName('Win2016_Datacenter-Nov-24-2026A'));
    for (const bad of ['', '-x', 'a b', 'a.b', 'a/b', 'é', 'x'.repeat(MAX_IMAGE_NAME_LENGTH + 1)]) assert.ok(!isValidImageName(bad), bad);
  });
});
