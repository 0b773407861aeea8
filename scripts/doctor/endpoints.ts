/**
 * DNS → TCP → (proxy) → TLS → HTTP status for the backend, the auth service and the WebSocket
 * host, by the suite's network-path walk (helpers/transport/network-path.ts) with the suite's
 * budgets: BUDGET_STORE_CONNECT_MS per connection layer, BUDGET_HTTP_MS for the HTTP answer, as
 * phase 1's network-path checks use them. Each layer of the walk becomes a doctor layer; a failed
 * one gets a headline naming the layer and the address, and the suite's own message.
 */
import { BUDGET_VARIABLES, type SuiteConfig } from '../../helpers/core/config.ts';
import type { Component } from '../../helpers/core/errors.ts';
import { formatMs } from '../../helpers/core/format.ts';
import { TIMEOUT_CODES } from '../../helpers/core/network-errors.ts';
import { CERT_PROBLEM_CODES, certProblemOf, hostPortOf, type CertProblem } from '../../helpers/core/tls-problems.ts';
import { httpBudgetOf } from '../../helpers/core/endpoint-classes.ts';
import { assertNetworkPath, checkNetworkPath, type PathLayerResult, type PathReport } from '../../helpers/transport/network-path.ts';
import { notRun, type DoctorLayer, type DoctorSection } from './report.ts';

export interface EndpointSpec {
  name: 'backend' | 'auth' | 'websocket';
  component: Component;
  url: (config: SuiteConfig) => string;
  /** The contract's unauthenticated health path on that host. */
  path: string;
}

export const ENDPOINTS: readonly EndpointSpec[] = [
  { name: 'backend', component: 'backend', url: (c) => c.baseUrl, path: '/health' },
  { name: 'auth', component: 'auth', url: (c) => c.authUrl, path: '/health' },
  { name: 'websocket', component: 'websocket', url: (c) => c.wsUrl, path: '/ws/health' },
];

const PATH_LAYERS = ['dns', 'tcp', 'tls', 'http-status'] as const;

export interface EndpointResult {
  section: DoctorSection;
  report: PathReport;
}

export async function checkEndpoint(spec: EndpointSpec, config: SuiteConfig): Promise<EndpointResult> {
  const url = spec.url(config);
  const report = await checkNetworkPath(url, {
    timeoutMs: config.budgets.storeConnect,
    httpTimeoutMs: config.budgets[httpBudgetOf(spec.path)],
    component: spec.component,
    path: spec.path,
    okStatus: (status) => status === 200,
  });
  const secure = /^(https|wss):/.test(url);
  const budgets = { connect: `${formatMs(config.budgets.storeConnect)} (${BUDGET_VARIABLES.storeConnect})`, http: `${formatMs(config.budgets[httpBudgetOf(spec.path)])} (${BUDGET_VARIABLES[httpBudgetOf(spec.path)]})` };
  const message = failureMessage(report);
  const layers: DoctorLayer[] = report.layers.map((result) => toDoctorLayer(result, { ...budgets, hostPort: hostPortOf(url) }, message));
  if (!secure) {
    // Listed so every layer shows: plain http:// and ws:// have no TLS to check.
    const at = layers.findIndex((l) => l.layer === 'http-status');
    layers.splice(at < 0 ? layers.length : at, 0, { layer: 'tls', status: 'n/a', summary: `not used (${new URL(url).protocol}//)` });
  }
  if (!report.ok && report.failedLayer) {
    const seen = new Set(layers.map((l) => l.layer));
    layers.push(...notRun(PATH_LAYERS.filter((l) => !seen.has(l)), `${report.failedLayer} failed`));
  }
  for (const warning of report.warnings) {
    const tls = layers.find((l) => l.layer === 'tls' && l.status === 'ok');
    if (tls) Object.assign(tls, { status: 'warning', error: warning });
  }
  return { section: { name: spec.name, component: spec.component, target: `${report.url}${report.proxy ? ` via proxy ${report.proxy}` : ''}`, layers }, report };
}

/** The suite's own words for a failed walk (the same a phase-1 network-path check fails with). */
function failureMessage(report: PathReport): string | undefined {
  if (report.ok) return undefined;
  try {
    assertNetworkPath(report);
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

function toDoctorLayer(result: PathLayerResult, budgets: Wording, message: string | undefined): DoctorLayer {
  const base: DoctorLayer = { layer: result.layer, status: result.ok ? 'ok' : 'failed', ms: round(result.ms), summary: '', detail: result.detail };
  if (result.ok) return { ...base, summary: summaryOf(result) };
  const headline = headlineOf(result, budgets);
  return { ...base, summary: headline, code: result.code, headline, error: message ?? result.error };
}

/** Budgets as named in headlines, and the endpoint's host:port. */
interface Wording {
  connect: string;
  http: string;
  hostPort: string;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function summaryOf(result: PathLayerResult): string {
  const d = result.detail;
  const via = typeof d.proxy === 'string' ? `proxy ${d.proxy}: ` : '';
  switch (result.layer) {
    case 'dns':
      return `${via}${d.skipped ? `${String(d.host ?? (d.addresses as string[] | undefined)?.[0] ?? '')} (IP literal, no lookup)`.trim() : `${String(d.host)} → ${(d.addresses as string[] | undefined)?.join(', ') ?? '?'}`}`;
    case 'tcp':
      return `${via}connected to ${String(d.address ?? '?')}${d.port !== undefined ? `:${String(d.port)}` : ''}`;
    case 'proxy':
      return `CONNECT ${String(d.connect)} → ${String(d.status)}`;
    case 'tls':
      return [
        `${String(d.protocol)}`,
        `chain trusted (issuer ${String(d.issuer ?? '?')})`,
        `subject ${String(d.subject ?? '?')}`,
        `names ${String(d.subjectAltName ?? 'none')}`,
        `expires ${String(d.validTo ?? '?').slice(0, 10)} (in ${String(d.daysToExpiry ?? '?')} days)`,
      ].join(' · ');
    case 'http-status':
      return `GET ${String(d.path)} → ${String(d.status)}`;
  }
}

const CERT_WORDS: Record<CertProblem, string> = { untrusted: 'not trusted', expired: 'expired', 'not-yet-valid': 'not valid yet', 'wrong-name': 'issued for another host name' };

/** What broke and where, in a few words: `TCP refused at 127.0.0.1:4123`. */
function headlineOf(result: PathLayerResult, budgets: Wording): string {
  const d = result.detail;
  const code = result.code;
  switch (result.layer) {
    case 'dns':
      return code === TIMEOUT_CODES.dns ? `DNS: no answer for ${String(d.host)} within ${budgets.connect}` : `DNS: ${String(d.host)} does not resolve (${String(code)})`;
    case 'tcp': {
      const attempts = (d.attempts as Array<{ address: string }> | undefined) ?? [];
      const at = `${attempts.at(-1)?.address ?? String(d.proxy ?? '?')}:${String(d.port ?? '?')}`;
      if (code === 'ECONNREFUSED') return `TCP refused at ${at}`;
      if (code === TIMEOUT_CODES.tcp) return `TCP connect timed out at ${at} after ${budgets.connect}`;
      return `TCP ${String(code)} at ${at}`;
    }
    case 'proxy':
      return `proxy CONNECT to ${String(d.connect)} failed (${String(code)}) at ${String(d.proxy)}`;
    case 'tls': {
      if (code === TIMEOUT_CODES.tls) return `TLS handshake with ${budgets.hostPort} timed out after ${budgets.connect}`;
      const problem = certProblemOf(String(code));
      return problem
        ? `TLS certificate ${CERT_WORDS[problem]} at ${budgets.hostPort} (${CERT_PROBLEM_CODES[problem]}, ${String(code)})`
        : `TLS handshake failed at ${budgets.hostPort} (${String(code)})`;
    }
    case 'http-status':
      if (code === TIMEOUT_CODES.headers) return `HTTP: GET ${String(d.path)} got no response headers within ${budgets.http}`;
      if (code === 'redirect') return `HTTP: GET ${String(d.path)} answered a redirect (${String(d.status)} to ${String(d.location ?? '?')})`;
      return d.status !== undefined ? `HTTP: GET ${String(d.path)} answered ${String(d.status)}` : `HTTP: GET ${String(d.path)} failed (${String(code)})`;
  }
}
