/**
 * The parsers behind helpers/core/config.ts: each reads one raw env value, pushes a problem
 * naming its variable when the value is unusable, and returns what it could read.
 */
import { REDACTED } from './redact.ts';

/** True when `a` becomes `b` by at most one insertion, deletion, substitution or swap of neighbours. */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i += 1;
  const swapped = a.length === b.length && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  return swapped || a.slice(i + 1) === b.slice(i + 1) || a.slice(i + 1) === b.slice(i) || a.slice(i) === b.slice(i + 1);
}

/** "A", "A and B", "A, B and C". */
export function joinNames(names: readonly string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

export function stripTrailingSlash(href: string): string {
  return href.endsWith('/') ? href.slice(0, -1) : href;
}

export interface UrlRule {
  protocols: string[];
  example: string;
  /** The suite appends paths to it: a query or fragment would end up in the middle of every URL. */
  bareBase?: boolean;
  /** fetch and ws refuse URLs with user:password@, and reports print these URLs. */
  noCredentials?: boolean;
}

export const TARGET_HTTP_URL: UrlRule = { protocols: ['http:', 'https:'], example: 'https://api-staging.example.com', bareBase: true, noCredentials: true };
export const TARGET_WS_URL: UrlRule = { protocols: ['ws:', 'wss:'], example: 'wss://api-staging.example.com/ws', noCredentials: true };

export function parseUrl(raw: string | undefined, name: string, rule: UrlRule, problems: string[]): URL | undefined {
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`${name} is not a valid URL: "${redactValue(raw)}" (expected e.g. ${rule.example})`);
    return undefined;
  }
  if (!rule.protocols.includes(url.protocol)) {
    const hint = rule.protocols.includes('ws:') && (url.protocol === 'http:' || url.protocol === 'https:')
      ? ` (a WebSocket URL uses ws:// or wss://, e.g. ${url.protocol === 'https:' ? 'wss' : 'ws'}://${url.host}${url.pathname})`
      : ` (expected e.g. ${rule.example})`;
    problems.push(`${name} must use ${rule.protocols.join(' or ')}, got ${url.protocol}${hint}`);
    return undefined;
  }
  if (!url.hostname) {
    problems.push(`${name} has no host: "${redactValue(raw)}" (expected e.g. ${rule.example})`);
    return undefined;
  }
  if (rule.noCredentials && (url.username || url.password)) {
    // The value is not echoed: the part before @ is a credential.
    problems.push(`${name} must not carry credentials (user:password@host): authenticate with E2E_BYPASS_KEY, STAGING_TEST_EMAIL and STAGING_TEST_PASSWORD, or STAGING_JWT_SECRET`);
    return undefined;
  }
  if (url.hash) {
    problems.push(`${name} must not have a fragment (#...): it is never sent to the server (expected e.g. ${rule.example})`);
    return undefined;
  }
  if (rule.bareBase && url.search) {
    problems.push(`${name} must not have a query (?...): the suite appends paths to it; give only the scheme, host and base path (e.g. ${rule.example})`);
    return undefined;
  }
  return url;
}

export function parsePositiveInt(raw: string | undefined, name: string, fallback: number, problems: string[], minimum = 1, minimumReason?: string): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) {
    const unit = name.endsWith('_MS') ? ' of milliseconds' : name.endsWith('_S') ? ' of seconds' : '';
    problems.push(`${name} must be a positive whole number${unit}, got "${raw}"`);
    return fallback;
  }
  const parsed = Number(raw);
  if (parsed < minimum) {
    problems.push(`${name} must be at least ${minimum}${minimumReason ? ` (${minimumReason})` : ''}, got ${parsed}`);
    return fallback;
  }
  return parsed;
}

export function parseBoolean(raw: string | undefined, name: string, problems: string[]): boolean {
  if (raw === undefined) return false;
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  problems.push(`${name} must be true or false, got "${raw}"`);
  return false;
}

export function parsePattern(raw: string, name: string, problems: string[]): RegExp | undefined {
  try {
    return new RegExp(raw, 'i');
  } catch (error) {
    problems.push(`${name} is not a valid regular expression: ${(error as Error).message}`);
    return undefined;
  }
}

/**
 * Malformed URLs may carry credentials: everything before the last @ (after the scheme) is
 * hidden, whatever the slashes, and only then is the value shortened.
 */
function redactValue(raw: string): string {
  const hidden = raw.replace(/^([a-z][a-z0-9+.-]*:\/*)?.*@/i, (_, scheme: string | undefined) => `${scheme ?? ''}${REDACTED}@`);
  return hidden.length > 60 ? `${hidden.slice(0, 57)}...` : hidden;
}
