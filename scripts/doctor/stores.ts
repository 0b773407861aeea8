/**
 * The direct store probes, when configured: one PostgreSQL `select 1` (read-only) and one Redis
 * PING + SET + GET of a key under `e2e:<runId>:` with a TTL (the only write the contract allows),
 * by the suite's probes (helpers/transport/stores.ts) and its budgets. Not configured is said as
 * such, never as passed.
 */
import type { SuiteConfig } from '../../helpers/core/config.ts';
import { isCheckError, type CheckError, type Component } from '../../helpers/core/errors.ts';
import { describeStoreUrl, probePostgres, probeRedis } from '../../helpers/transport/stores.ts';
import { notRun, type DoctorLayer, type DoctorSection } from './report.ts';

export async function checkPostgres(config: SuiteConfig): Promise<DoctorSection> {
  if (!config.databaseUrl) return notConfigured('postgres', 'STAGING_DATABASE_URL');
  const endpoint = describeStoreUrl(config.databaseUrl);
  const section = (layers: DoctorLayer[]): DoctorSection => ({ name: 'postgres', component: 'postgres', target: endpoint, layers });
  try {
    const result = await probePostgres(config.databaseUrl, { samples: 1, connectTimeoutMs: config.budgets.storeConnect, queryTimeoutMs: config.budgets.dbProbe, runId: config.runId });
    const connect: DoctorLayer = { layer: 'connect', status: 'ok', ms: Math.round(result.connectMs), summary: `connected and authenticated${result.serverVersion ? `, PostgreSQL ${result.serverVersion}` : ''}` };
    const failure = result.failures[0];
    if (failure) return section([connect, failedLayer('query', failure.error)]);
    return section([connect, { layer: 'query', status: 'ok', ms: Math.round((result.samples[0] ?? 0) * 10) / 10, summary: 'select 1' }]);
  } catch (error) {
    if (!isCheckError(error)) throw error;
    return section([failedLayer('connect', error), ...notRun(['query'], 'connect failed')]);
  }
}

export async function checkRedis(config: SuiteConfig): Promise<DoctorSection> {
  if (!config.redisUrl) return notConfigured('redis', 'STAGING_REDIS_URL');
  const endpoint = describeStoreUrl(config.redisUrl);
  const section = (layers: DoctorLayer[]): DoctorSection => ({ name: 'redis', component: 'redis', target: endpoint, layers });
  try {
    const result = await probeRedis(config.redisUrl, { samples: 1, timeoutMs: Math.min(config.budgets.storeConnect, 2_000), runId: config.runId });
    const connect: DoctorLayer = { layer: 'connect', status: 'ok', ms: Math.round(result.connectMs), summary: 'connected' };
    const sample = result.samples[0];
    if (sample && !sample.ok && sample.error) return section([connect, failedLayer('round-trip', sample.error)]);
    return section([connect, { layer: 'round-trip', status: 'ok', ms: Math.round((sample?.ms ?? 0) * 10) / 10, summary: `PING${sample?.pingMs !== undefined ? ` ${Math.round(sample.pingMs)} ms` : ''} + SET/GET of a run key (TTL)` }]);
  } catch (error) {
    if (!isCheckError(error)) throw error;
    return section([failedLayer('connect', error), ...notRun(['round-trip'], 'connect failed')]);
  }
}

function failedLayer(layer: string, error: CheckError): DoctorLayer {
  const { code, endpoint } = error.details;
  const headline = `${layer} failed at ${error.details.layer}${code !== undefined ? ` (${String(code)})` : ''}${endpoint ? ` at ${endpoint}` : ''}`;
  return {
    layer,
    status: 'failed',
    ...(error.details.elapsedMs !== undefined ? { ms: Math.round(error.details.elapsedMs) } : {}),
    summary: headline,
    headline,
    error: error.message,
    ...(code !== undefined ? { code } : {}),
  };
}

function notConfigured(name: 'postgres' | 'redis', variable: string): DoctorSection {
  const component: Component = name;
  return { name, component, target: 'NOT CONFIGURED', layers: [{ layer: 'probe', status: 'n/a', summary: `NOT CONFIGURED: ${variable} is not set (not measured)` }] };
}
