/**
 * What the contract expects of an HTTP answer, as checks that fail with a CheckError naming the
 * endpoint, the layer and the evidence: the status, and a JSON body of a given shape.
 */
import type { ZodType } from 'zod';
import { CheckError, type Component } from '../core/errors.ts';
import { redactUrl } from '../core/redact.ts';
import { bodyForEvidence, type HttpResult } from '../transport/http.ts';

/**
 * Assert the status. Throws a CheckError (layer 'http-status', code = the status received) with the
 * truncated, redacted body, correlation id and timings as evidence. Returns the result for chaining.
 * `component` defaults to the client's component (pass it when the endpoint belongs to another
 * component, e.g. `/ws/health` → 'websocket').
 */
export function expectStatus(result: HttpResult, expected: number | readonly number[], what: string, component?: Component): HttpResult {
  const allowed = typeof expected === 'number' ? [expected] : [...expected];
  if (allowed.includes(result.status)) return result;
  if (result.status >= 300 && result.status < 400) throw redirectError(result, allowed, what, component);
  throw new CheckError(`${what}: expected HTTP ${allowed.join(' or ')}, got ${result.status}`, {
    component: component ?? result.component,
    layer: 'http-status',
    endpoint: `${result.method} ${result.url}`,
    code: result.status,
    correlationId: result.correlationId,
    elapsedMs: result.timings.totalMs,
    evidence: {
      status: result.status,
      expected: allowed,
      body: bodyForEvidence(result),
      contentType: result.headers['content-type'],
      correlationId: result.correlationId,
      timings: result.timings,
    },
  });
}

/**
 * An unexpected 3xx is a redirect, not a bare status mismatch (the suite never follows one: the
 * contract's paths are exact): layer 'http-status', code 'redirect', with the status and where
 * it points (`Location`, credentials and secret query values stripped).
 */
export function redirectError(result: HttpResult, allowed: readonly number[], what: string, component?: Component): CheckError {
  const location = result.headers.location;
  const shown = location === undefined ? undefined : redactUrl(location);
  return new CheckError(`${what}: expected HTTP ${allowed.join(' or ')}, got a redirect: ${result.status} to ${shown ?? '(no Location header)'}`, {
    component: component ?? result.component,
    layer: 'http-status',
    endpoint: `${result.method} ${result.url}`,
    code: 'redirect',
    correlationId: result.correlationId,
    elapsedMs: result.timings.totalMs,
    evidence: { status: result.status, location: shown, expected: allowed, correlationId: result.correlationId, timings: result.timings },
  });
}

/**
 * Validate the JSON body against a zod schema and return the parsed value. A missing/invalid JSON
 * body or a body not matching throws a CheckError (layer 'content') naming the first bad field.
 */
export function expectJsonBody<T>(result: HttpResult, schema: ZodType<T>, what: string, component?: Component): T {
  const base = {
    component: component ?? result.component,
    layer: 'content' as const,
    endpoint: `${result.method} ${result.url}`,
    correlationId: result.correlationId,
    elapsedMs: result.timings.totalMs,
  };
  if (result.json === undefined) {
    throw new CheckError(`${what}: expected a JSON body`, {
      ...base,
      code: 'INVALID_JSON',
      evidence: { status: result.status, contentType: result.headers['content-type'], body: bodyForEvidence(result) },
    });
  }
  const parsed = schema.safeParse(result.json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? '(root)' : issue.path.map((part) => String(part)).join('.');
  throw new CheckError(`${what}: body field \`${field}\` ${issue?.message ?? 'is invalid'}`, {
    ...base,
    code: 'SCHEMA_MISMATCH',
    evidence: {
      field,
      issue: issue?.code,
      issues: parsed.error.issues.slice(0, 5).map((i) => ({ path: i.path.map((p) => String(p)).join('.'), message: i.message })),
      body: bodyForEvidence(result),
    },
  });
}
