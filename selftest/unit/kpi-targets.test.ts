import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

const CATALOG = join(import.meta.dirname, '..', '..', 'catalog', 'stagecheck.catalog.json');

async function load(catalogPath?: string) {
  vi.resetModules();
  vi.stubEnv('STAGECHECK_CATALOG', catalogPath ?? '');
  return import('../../fixtures/kpi-targets.ts');
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('rateKpiTarget', () => {
  it('reads the shipped catalog: the targets the report judges the KPI tests by', async () => {
    const { rateKpiTarget } = await load();
    expect(rateKpiTarget('ws-connection-success')).toEqual({ id: 'ws-connection-success', target: 0.95, minSamples: 20, percent: '95%' });
    expect(rateKpiTarget('golden-path-completion')).toMatchObject({ target: 0.9, minSamples: 5, percent: '90%' });
  });

  it('follows an edited catalog, and refuses a KPI that is not a rate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stagecheck-kpi-'));
    try {
      const catalog = JSON.parse(readFileSync(CATALOG, 'utf8')) as { kpis: { id: string; target?: number; minSamples?: number }[] };
      Object.assign(catalog.kpis.find((k) => k.id === 'agent-execution-success')!, { target: 0.975, minSamples: 12 });
      const file = join(dir, 'catalog.json');
      writeFileSync(file, JSON.stringify(catalog));
      const { rateKpiTarget } = await load(file);
      expect(rateKpiTarget('agent-execution-success')).toEqual({ id: 'agent-execution-success', target: 0.975, minSamples: 12, percent: '97.5%' });
      expect(() => rateKpiTarget('database-response-p95')).toThrow(/KPI "database-response-p95" is not a rate KPI/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
