/**
 * Reading an HTTP answer: the URL a request goes to, headers as one record, the correlation id
 * wherever the deployment puts it, and the body fit for evidence (this request's secrets removed).
 */
import { redactSecrets } from '../core/redact.ts';
import type { HttpResult } from './http-types.ts';

const resultSecrets = new WeakMap<HttpResult, string[]>();
/** Request headers whose values are secrets, removed from everything a result shows. */
export const SECRET_HEADERS = /^(authorization|cookie|x-e2e-bypass-key|x-api-key|proxy-authorization)$/i;

export function joinUrl(baseUrl: string, path: string): URL {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return new URL(path);
  const base = baseUrl.replace(/\/+$/, '');
  return new URL(`${base}${path.startsWith('/') ? path : `/${path}`}`);
}

export function headerRecord(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export function findCorrelationId(headers: Record<string, string>, json: unknown): string | undefined {
  const header = headers['x-correlation-id'];
  if (header) return header;
  if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
    const record = json as Record<string, unknown>;
    for (const candidate of [record.correlation_id, record.correlationId]) {
      if (typeof candidate === 'string' && candidate !== '') return candidate;
    }
    const nested = record.error;
    if (nested !== null && typeof nested === 'object') {
      const id = (nested as Record<string, unknown>).correlation_id;
      if (typeof id === 'string' && id !== '') return id;
    }
  }
  return undefined;
}

const BODY_EVIDENCE_CHARS = 2000;

export function truncate(text: string, max = BODY_EVIDENCE_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length - max} more chars]`;
}

/** Remembers the secrets a request carried, so evidence of its result leaves them out. */
export function rememberSecrets(result: HttpResult, secrets: string[]): void {
  resultSecrets.set(result, secrets);
}

/** The response body fit for evidence: truncated, with this request's secrets and every configured one removed. */
export function bodyForEvidence(result: HttpResult): string {
  return truncate(redactSecrets(result.body, resultSecrets.get(result) ?? []));
}
