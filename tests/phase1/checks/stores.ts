/**
 * Tier P1: every conversation is stored in PostgreSQL and every session touches Redis.
 * These probe the stores directly (when configured) and feed two KPIs: database response
 * time p95 and Redis connectivity. Not configured is NOT RUN, never passed.
 */
import { describe, expect, test } from '../../../fixtures/index.ts';
import { CHECK_IDS, DESCRIBES } from '../../check-ids.ts';
import { assertStoreProbe, probePostgres, probeRedis } from '../../../helpers/transport/stores.ts';
import { summarize } from '../../../helpers/core/stats.ts';
import { CheckError } from '../../../helpers/core/errors.ts';
import { formatMs } from '../../../helpers/core/format.ts';
import { readKpiThresholds } from '../../../helpers/core/kpi-thresholds.ts';

/** The database response-time KPI's thresholds, from the catalog (DEGRADED from targetMs, FAIL from failMs). */
const DB_KPI = readKpiThresholds().latency('database-response-p95');

describe(DESCRIBES.pgProbe, { tags: ['p1', 'postgres'], concurrent: true }, () => {
  test('answers every query of the sample within the response-time KPI', { meta: { checkId: CHECK_IDS.pgProbe } }, async ({ config, report, skip }) => {
    if (!config.databaseUrl) {
      report.notConfigured = 'STAGING_DATABASE_URL is not set';
      skip('NOT CONFIGURED: STAGING_DATABASE_URL is not set');
    }
    const result = await probePostgres(config.databaseUrl!, {
      samples: config.samples.database,
      connectTimeoutMs: config.budgets.storeConnect,
      queryTimeoutMs: config.budgets.dbProbe,
      runId: config.runId,
    });
    report.kpis.push({ kpi: 'database-response-p95', samples: result.samples });
    report.measurements.push({ name: 'postgres connect', unit: 'ms', samples: [result.connectMs] });
    assertStoreProbe(result);
    const stats = summarize(result.samples);
    if (stats.p95 !== null && stats.p95 >= DB_KPI.failMs) {
      throw new CheckError(`PostgreSQL p95 ${stats.p95.toFixed(0)} ms is past the KPI's ${formatMs(DB_KPI.failMs)} failure threshold (${result.rate.text} answered)`, {
        component: 'postgres', layer: 'budget', endpoint: result.endpoint, evidence: { ...stats },
      });
    }
    expect(result.successCount, `${result.rate.text} queries answered`).toBe(result.total);
  });
});

describe(DESCRIBES.redisProbe, { tags: ['p1', 'redis'], concurrent: true }, () => {
  test('answers PING and round-trips a run-scoped key on every sample', { meta: { checkId: CHECK_IDS.redisProbe } }, async ({ config, report, skip }) => {
    if (!config.redisUrl) {
      report.notConfigured = 'STAGING_REDIS_URL is not set';
      skip('NOT CONFIGURED: STAGING_REDIS_URL is not set');
    }
    const result = await probeRedis(config.redisUrl!, {
      samples: config.samples.redis,
      timeoutMs: Math.min(config.budgets.storeConnect, 2_000),
      runId: config.runId,
    });
    report.kpis.push({ kpi: 'redis-connectivity', samples: result.samples.map((s) => (s.ok ? 1 : 0)) });
    report.measurements.push({ name: 'redis round trip', unit: 'ms', samples: result.samples.filter((s) => s.ok).map((s) => s.ms) });
    assertStoreProbe(result);
    expect(result.successCount, `${result.rate.text} samples succeeded`).toBe(result.total);
  });
});
