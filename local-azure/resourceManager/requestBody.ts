import { ArmError } from '../http';
import { invalidRequestContent } from './errors';

/** Checks of request bodies with Resource Manager's errors: InvalidRequestContent, and ARM's rules for tags. */

export function requiredObject(value: unknown, name: string): Record<string, unknown> {
  if (value === undefined || value === null) throw invalidRequestContent(`${name} is required.`);
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidRequestContent(`${name} must be a JSON object.`);
  return value as Record<string, unknown>;
}

export function optionalObject(value: unknown, name: string): Record<string, unknown> | undefined {
  return value === undefined || value === null ? undefined : requiredObject(value, name);
}

export function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidRequestContent(`${name} must be a string.`);
  return value;
}

/** Tags as ARM accepts them: at most 50, names up to 512 and values up to 256 characters. */
export function checkTags(value: unknown): Record<string, string> {
  const tags = requiredObject(value, 'tags');
  const entries = Object.entries(tags);
  if (entries.length > 50) throw new ArmError(400, 'InvalidTag', `A resource can have at most 50 tags; the request has ${entries.length}.`);
  for (const [key, item] of entries) {
    if (typeof item !== 'string') throw invalidRequestContent(`the value of tag '${key}' must be a string.`);
    if (key.length > 512 || /[<>%&\\?/]/.test(key)) throw new ArmError(400, 'InvalidTagNameCharacters', `The tag name '${key}' has characters that are not allowed (<, >, %, &, \\, ?, /) or is longer than 512 characters.`);
    if (item.length > 256) throw new ArmError(400, 'InvalidTag', `The value of tag '${key}' is longer than 256 characters.`);
  }
  return { ...(tags as Record<string, string>) };
}
