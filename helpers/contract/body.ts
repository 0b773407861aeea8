/**
 * Response body shape checks that fail as CheckErrors naming the endpoint and the field,
 * so "GET /api/health: field checks.redis missing" reaches the report instead of a
 * generic "expected undefined to be defined".
 */
import { CheckError, type CheckErrorDetails, type Component } from '../core/errors.ts';

type FieldType = 'string' | 'number' | 'boolean' | 'object' | 'array';
type TypeOf<T extends FieldType> = T extends 'string' ? string
  : T extends 'number' ? number
  : T extends 'boolean' ? boolean
  : T extends 'array' ? unknown[]
  : Record<string, unknown>;

interface HasJson {
  json?: unknown;
  body?: string;
  correlationId?: string;
}

/** Asserts the JSON body has each field with the given type and returns it typed. */
export function expectFields<const S extends Record<string, FieldType>>(
  result: HasJson,
  what: string,
  component: Component,
  shape: S,
): { [K in keyof S]: TypeOf<S[K]> } & Record<string, unknown> {
  const json = result.json;
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new CheckError(`${what}: expected a JSON object body, got ${describeValue(json, result.body)}`, {
      component,
      layer: 'content',
      endpoint: what,
      correlationId: result.correlationId,
      evidence: { body: truncate(result.body ?? '') },
    });
  }
  const record = json as Record<string, unknown>;
  const problems = Object.entries(shape)
    .filter(([field, type]) => typeOfValue(record[field]) !== type)
    .map(([field, type]) => `${field} should be ${type}, got ${typeOfValue(record[field])}`);
  if (problems.length > 0) {
    throw new CheckError(`${what}: body does not match the contract: ${problems.join('; ')}`, {
      component,
      layer: 'content',
      endpoint: what,
      correlationId: result.correlationId,
      evidence: { fields: Object.keys(record), body: truncate(JSON.stringify(record)) },
    });
  }
  return record as { [K in keyof S]: TypeOf<S[K]> } & Record<string, unknown>;
}

function typeOfValue(value: unknown): FieldType | 'null' | 'undefined' | 'other' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'boolean' || type === 'object' || type === 'undefined' ? type : 'other';
}

function describeValue(json: unknown, body: string | undefined): string {
  if (json === undefined) return body ? `non-JSON text "${truncate(body, 80)}"` : 'an empty body';
  return Array.isArray(json) ? 'an array' : typeOfValue(json);
}

function truncate(text: string, max = 500): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * Fails with a CheckError when `condition` is false: for facts a body reports about another
 * component ("redis_db: degraded"), so the failure names that component, not the messenger.
 */
export function check(condition: boolean, message: string, details: CheckErrorDetails): asserts condition {
  if (!condition) throw new CheckError(message, details);
}
