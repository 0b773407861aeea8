import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeNetwork, isLoopbackHost, proxyFor, readNetworkEnv } from '../../helpers/core/network-env.ts';
import { configuredSecrets } from '../../helpers/core/redact.ts';
import { ConfigError, loadConfig } from '../../helpers/core/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'stagecheck-netenv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const STAGING = {
  STAGING_BASE_URL: 'https://api-staging.example.com',
  STAGING_AUTH_URL: 'https://auth-staging.example.com',
  STAGING_WS_URL: 'wss://api-staging.example.com/ws',
  E2E_BYPASS_KEY: 'sentinel-bypass-key',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    return (error as ConfigError).problems;
  }
}

describe('proxyFor', () => {
  const proxy = readNetworkEnv({ HTTPS_PROXY: 'http://proxy.internal:3128', HTTP_PROXY: 'http://plain.internal:8080', NO_PROXY: 'no-proxy.example.com,.corp.example,api.other:8443' }).settings.proxy;

  it('sends https/wss through HTTPS_PROXY and http/ws through HTTP_PROXY', () => {
    expect(proxyFor('https://api-staging.example.com/health', proxy)?.host).toBe('proxy.internal:3128');
    expect(proxyFor('wss://api-staging.example.com/ws', proxy)?.host).toBe('proxy.internal:3128');
    expect(proxyFor('http://api-staging.example.com', proxy)?.host).toBe('plain.internal:8080');
    expect(proxyFor('ws://api-staging.example.com/ws', proxy)?.host).toBe('plain.internal:8080');
  });

  it('honours NO_PROXY: a host, a domain with its subdomains, a host:port', () => {
    expect(proxyFor('https://no-proxy.example.com', proxy)).toBeUndefined();
    expect(proxyFor('https://sub.no-proxy.example.com', proxy)).toBeUndefined();
    expect(proxyFor('https://a.b.corp.example', proxy)).toBeUndefined();
    expect(proxyFor('https://api.other:8443', proxy)).toBeUndefined();
    expect(proxyFor('https://api.other:443', proxy)).toBeDefined();
    expect(proxyFor('https://xno-proxy.example.com', proxy)).toBeDefined();
    expect(proxyFor('https://x', readNetworkEnv({ HTTPS_PROXY: 'http://p:1', NO_PROXY: '*' }).settings.proxy)).toBeUndefined();
  });

  it('never sends a loopback target through the proxy, unless STAGECHECK_PROXY_LOOPBACK=1', () => {
    for (const url of ['https://localhost:8443', 'https://127.0.0.1', 'https://127.9.9.9:1', 'wss://[::1]:9/ws', 'https://app.localhost']) {
      expect(proxyFor(url, proxy), url).toBeUndefined();
    }
    const forced = readNetworkEnv({ HTTPS_PROXY: 'http://127.0.0.1:3128', STAGECHECK_PROXY_LOOPBACK: '1' }).settings.proxy;
    expect(proxyFor('https://127.0.0.1:8443', forced)?.port).toBe('3128');
    expect(isLoopbackHost('128.0.0.1')).toBe(false);
  });

  it('reads the lower-case forms first, as curl does', () => {
    const both = readNetworkEnv({ https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2', no_proxy: 'a.example', NO_PROXY: 'b.example' }).settings.proxy;
    expect(both.https?.hostname).toBe('lower');
    expect(both.noProxy).toEqual(['a.example']);
  });
});

describe('readNetworkEnv / config', () => {
  it('names STAGING_CA_FILE when it cannot be read or holds no PEM certificate', () => {
    const notPem = join(dir, 'not-pem.txt');
    writeFileSync(notPem, 'hello');
    expect(problemsOf({ ...STAGING, STAGING_CA_FILE: join(dir, 'missing.pem') })).toEqual([expect.stringMatching(/^STAGING_CA_FILE ".*missing\.pem" cannot be read \(ENOENT\)/)]);
    expect(problemsOf({ ...STAGING, STAGING_CA_FILE: notPem })).toEqual([expect.stringMatching(/^STAGING_CA_FILE ".*not-pem\.txt" holds no PEM certificate/)]);
    const broken = join(dir, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
    expect(problemsOf({ ...STAGING, STAGING_CA_FILE: broken })).toEqual([expect.stringMatching(/^STAGING_CA_FILE ".*broken\.pem" certificate 1 of 1 is not a valid X\.509 certificate/)]);
  });

  it('refuses a proxy that is not http:// and never echoes its credentials', () => {
    const problems = problemsOf({ ...STAGING, HTTPS_PROXY: 'socks5://user:s3cret-proxy@proxy:1080', HTTP_PROXY: 'http://[bad' });
    expect(problems).toEqual([
      'HTTPS_PROXY must be an http:// proxy (an HTTP CONNECT proxy), got socks5://',
      expect.stringMatching(/^HTTP_PROXY is not a valid proxy URL/),
    ]);
    expect(problems.join('\n')).not.toContain('s3cret-proxy');
  });

  it('describes the setup without credentials, and the proxy password is a configured secret', () => {
    const env = { HTTPS_PROXY: 'http://user:s3cret-proxy@proxy.internal:3128', NO_PROXY: '.corp' };
    const described = describeNetwork(readNetworkEnv(env).settings);
    expect(described).toEqual({ ca: 'system store', proxy: 'https via http://proxy.internal:3128/; NO_PROXY .corp; loopback direct' });
    expect(configuredSecrets(env)).toContain('s3cret-proxy');
    expect(loadConfig({ ...STAGING, ...env }).network.proxy).not.toContain('s3cret');
  });
});
