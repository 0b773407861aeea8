import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../helpers/core/config.ts';
import { DEFAULT_CATALOG_PATH, readKpiThresholds } from '../../helpers/core/kpi-thresholds.ts';

const dir = mkdtempSync(join(tmpdir(), 'stagecheck-kpi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function catalogFile(name: string, kpis: unknown[]): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ kpis }));
  return path;
}

const STAGING = {
  STAGING_BASE_URL: 'https://api-staging.example.com',
  STAGING_AUTH_URL: 'https://auth-staging.example.com',
  STAGING_WS_URL: 'wss://api-staging.example.com/ws',
  E2E_BYPASS_KEY: 'sentinel-bypass-key',
};

const EDITED = [
  { id: 'database-response-p95', kind: 'latency', percentile: 90, targetMs: 1000, failMs: 2000, minSamples: 4 },
  { id: 'database-response-backend', kind: 'latency', thresholdsOf: 'database-response-p95', minSamples: 1 },
  { id: 'redis-connectivity', kind: 'rate', target: 1, minSamples: 3 },
  { id: 'ws-connection-success', kind: 'rate', target: 0.8, minSamples: 7 },
];

describe('readKpiThresholds', () => {
  it('reads the shipped catalog', () => {
    const kpis = readKpiThresholds(DEFAULT_CATALOG_PATH);
    expect(kpis.latency('database-response-p95')).toMatchObject({ percentile: 95, targetMs: 3000, failMs: 5000, minSamples: 10 });
    expect(kpis.rate('ws-connection-success')).toEqual({ target: 0.95, minSamples: 20 });
  });

  it('takes a KPI\'s thresholds from the one it names in thresholdsOf, keeping its own minimum', () => {
    const kpis = readKpiThresholds(catalogFile('edited', EDITED));
    expect(kpis.latency('database-response-backend')).toEqual({ percentile: 90, targetMs: 1000, failMs: 2000, minSamples: 1 });
  });

  it('names the file and the KPI when one is missing or of another kind', () => {
    const path = catalogFile('partial', [{ id: 'redis-connectivity', kind: 'rate', target: 1, minSamples: 10 }]);
    expect(() => readKpiThresholds(path).latency('database-response-p95')).toThrow(`${path}: KPI "database-response-p95" is missing`);
    expect(() => readKpiThresholds(path).latency('redis-connectivity')).toThrow('KPI "redis-connectivity" is not a latency KPI');
  });
});

describe('loadConfig with an edited catalog (STAGECHECK_CATALOG)', () => {
  it('takes the default sample counts and their floors from the catalog', () => {
    const config = loadConfig({ ...STAGING, STAGECHECK_CATALOG: catalogFile('config', EDITED) });
    expect(config.samples).toEqual({ database: 4, redis: 3, wsHandshakes: 7 });
  });

  it('checks the budgets against the catalog\'s database failure threshold', () => {
    const path = catalogFile('budgets', EDITED);
    expect(() => loadConfig({ ...STAGING, STAGECHECK_CATALOG: path, BUDGET_DB_QUERY_MS: '2500' })).not.toThrow();
    const problems = (() => {
      try {
        loadConfig({ ...STAGING, STAGECHECK_CATALOG: path, BUDGET_DB_QUERY_MS: '1500' });
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    })();
    expect(problems).toEqual([expect.stringMatching(/^BUDGET_DB_QUERY_MS=1500 must be greater than its KPI threshold 'dbProbe' \(2000 ms\)/)]);
  });

  it('reports an unreadable catalog as a configuration problem', () => {
    expect(() => loadConfig({ ...STAGING, STAGECHECK_CATALOG: join(dir, 'missing.json') })).toThrow(/STAGECHECK_CATALOG: the business catalog .*missing\.json cannot be read/);
  });
});
