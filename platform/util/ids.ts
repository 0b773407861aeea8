import { randomBytes, randomUUID } from 'node:crypto';

/** URL-safe random secret (tokens, keys, passwords). */
export function randomSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

/** Short lowercase id usable in SQL identifiers and key prefixes. */
export function randomSlug(bytes = 6): string {
  return randomBytes(bytes).toString('hex');
}

export function newId(): string {
  return randomUUID();
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}
