/**
 * The parts of `npm run doctor` that need no target (scripts/doctor/): where each value came
 * from (environment over .env, as dotenv loads it; the command line on top; the bundled
 * platform only under what is unset), the configuration rows without a secret, the first broken
 * layer and its headline, and the command line. The whole command against reference platforms
 * is selftest/runs/doctor.test.ts (slow tier); the refused-port headline is checked here too,
 * on loopback, so `npm test` keeps the wording it promises.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../helpers/core/config.ts';
import { parseDoctorArgs } from '../../scripts/doctor/args.ts';
import { configRows, readSourcedEnv, withPlatformEnv } from '../../scripts/doctor/config-sources.ts';
import { checkEndpoint, ENDPOINTS } from '../../scripts/doctor/endpoints.ts';
import { firstBroken, type DoctorSection } from '../../scripts/doctor/report.ts';
import { refusedPort } from '../support/net.ts';

const dir = mkdtempSync(join(tmpdir(), 'stagecheck-doctor-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = { bypass: 'sentinel-doctor-bypass', db: 'sentinel-doctor-dbpass' };

function dotenvFile(text: string): string {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.env`);
  writeFileSync(path, text);
  return path;
}

describe('doctor: where each value came from', () => {
  it('takes the environment over .env, even a blank variable, and the command line over both', () => {
    const path = dotenvFile('STAGING_BASE_URL=https://from-dotenv.staging.example.com\nE2E_BYPASS_KEY=dotenv-key\nSTAGING_TEST_EMAIL=qa@example.com\nBUDGET_HTTP_MS=12000\n');
    const sourced = readSourcedEnv({ STAGING_BASE_URL: 'https://api-staging.example.com', STAGING_TEST_EMAIL: '' }, path, { STAGECHECK_TARGET: 'staging' });
    expect(sourced.env.STAGING_BASE_URL).toBe('https://api-staging.example.com');
    expect(sourced.sources.get('STAGING_BASE_URL')).toBe('environment');
    expect(sourced.env.E2E_BYPASS_KEY).toBe('dotenv-key');
    expect(sourced.sources.get('E2E_BYPASS_KEY')).toBe('.env');
    // dotenv never overrides an existing variable, blank included (how child runs keep a developer's .env out).
    expect(sourced.env.STAGING_TEST_EMAIL).toBe('');
    expect(sourced.sources.has('STAGING_TEST_EMAIL')).toBe(false);
    expect(sourced.sources.get('STAGECHECK_TARGET')).toBe('command line');
  });

  it('fills only what is unset from the bundled platform', () => {
    const sourced = withPlatformEnv(readSourcedEnv({ E2E_BYPASS_KEY: 'mine' }, join(dir, 'missing.env')), { E2E_BYPASS_KEY: 'platform', STAGING_BASE_URL: 'http://127.0.0.1:4100' });
    expect(sourced.env.E2E_BYPASS_KEY).toBe('mine');
    expect(sourced.sources.get('E2E_BYPASS_KEY')).toBe('environment');
    expect(sourced.sources.get('STAGING_BASE_URL')).toBe('bundled platform');
  });

  it('lists the configuration with its sources and defaults, never a secret', () => {
    const env = {
      STAGING_BASE_URL: 'https://api-staging.example.com',
      STAGING_AUTH_URL: 'https://auth-staging.example.com',
      STAGING_WS_URL: 'wss://api-staging.example.com/ws',
      STAGING_DATABASE_URL: `postgres://ro:${SECRET.db}@db-staging.example.com:5432/app`,
      E2E_BYPASS_KEY: SECRET.bypass,
    };
    const sourced = readSourcedEnv(env, join(dir, 'missing.env'));
    const rows = configRows(sourced, loadConfig(sourced.env));
    const text = JSON.stringify(rows);
    expect(text).not.toContain(SECRET.bypass);
    expect(text).not.toContain(SECRET.db);
    expect(rows).toContainEqual({ name: 'E2E_BYPASS_KEY', value: '[redacted]', source: 'environment' });
    expect(rows).toContainEqual({ name: 'STAGING_DATABASE_URL', value: 'postgres://db-staging.example.com:5432/app', source: 'environment' });
    expect(rows).toContainEqual({ name: 'BUDGET_HTTP_MS', value: '10000', source: 'default' });
    expect(rows).toContainEqual({ name: 'STAGING_REDIS_URL', value: 'not set', source: 'not set' });
  });
});

describe('doctor: the verdict', () => {
  const section = (name: string, statuses: string[]): DoctorSection => ({
    name,
    component: 'backend',
    target: 'x',
    layers: statuses.map((status, i) => ({ layer: `l${i}`, status: status as 'ok', summary: '', headline: `L${i} broke` })),
  });

  it('names the first failed layer in section order, and nothing when every layer is ok, n/a or a warning', () => {
    expect(firstBroken([section('backend', ['ok', 'n/a']), section('auth', ['ok', 'warning'])])).toBeUndefined();
    expect(firstBroken([section('backend', ['ok', 'failed', 'not run']), section('auth', ['failed'])])).toMatchObject({ section: 'backend', layer: 'l1', headline: 'backend: L1 broke' });
  });

  it('says TCP refused and the address for a port that refuses', async () => {
    const port = await refusedPort();
    const config = loadConfig({ STAGING_BASE_URL: `http://127.0.0.1:${port}`, STAGING_AUTH_URL: `http://127.0.0.1:${port}`, STAGING_WS_URL: `ws://127.0.0.1:${port}/ws`, E2E_BYPASS_KEY: 'k' });
    const { section: backend } = await checkEndpoint(ENDPOINTS[0]!, config);
    expect(firstBroken([backend])?.headline).toBe(`backend: TCP refused at 127.0.0.1:${port}`);
    expect(backend.layers.map((l) => `${l.layer} ${l.status}`)).toEqual(['dns ok', 'tcp failed', 'tls n/a', 'http-status not run']);
  });
});

describe('doctor: the command line', () => {
  it('maps its options to the variables they stand for and names an unknown one', () => {
    expect(parseDoctorArgs(['--json', '--target', 'staging'])).toEqual({ json: true, help: false, env: { STAGECHECK_TARGET: 'staging' } });
    expect(parseDoctorArgs(['--local', '--allow-production']).env).toEqual({ STAGECHECK_TARGET: 'local', STAGECHECK_ALLOW_PRODUCTION: 'true' });
    expect(() => parseDoctorArgs(['--jsn'])).toThrow(ConfigError);
    expect(() => parseDoctorArgs(['--target'])).toThrow(/--target needs a value/);
  });
});
