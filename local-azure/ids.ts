import { createHash } from 'node:crypto';

/** Names and ids shared by every service of the local Azure. */

/** Azure resource names compare without regard to case. */
export function same(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export function findByName<T extends { name: string }>(items: readonly T[], name: string): T | undefined {
  return items.find((item) => same(item.name, name));
}

/** A stable GUID derived from `seed`, so the same scenario gives the same ids on every start. */
export function stableGuid(seed: string): string {
  const hex = sha256Hex(seed);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** `count` stable decimal digits derived from `seed`. */
export function stableDigits(seed: string, count: number): string {
  const hex = sha256Hex(seed);
  return (BigInt(`0x${hex.slice(0, 15)}`) % 10n ** BigInt(count)).toString().padStart(count, '0');
}

/** Stable hexadecimal digits derived from `seed` (at most 64). */
export function stableHex(seed: string, count: number): string {
  return sha256Hex(seed).slice(0, count);
}

function sha256Hex(seed: string): string {
  return createHash('sha256').update(seed).digest('hex');
}
