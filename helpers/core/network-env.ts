/**
 * The network setup a run goes through, read from the environment once and validated at start
 * (helpers/core/config.ts reports its problems): the CA file to trust beside the system store
 * (`STAGING_CA_FILE`, PEM), and the HTTP(S) proxy to go through (`HTTPS_PROXY`, `HTTP_PROXY`,
 * `NO_PROXY`, lower-case forms first, as curl reads them).
 *
 * - Trust: with STAGING_CA_FILE, new TLS connections trust the system store
 *   (`tls.rootCertificates`), the certificates of NODE_EXTRA_CA_CERTS and the file. Without it,
 *   Node's default store applies (which already holds NODE_EXTRA_CA_CERTS).
 * - Proxy: `https:`/`wss:` targets go through HTTPS_PROXY, `http:`/`ws:` through HTTP_PROXY, both
 *   as an HTTP CONNECT tunnel; NO_PROXY lists hosts that do not (`*`, `host`, `.domain`,
 *   `domain` with its subdomains, `host:port`, an IP). Loopback targets (localhost, 127.0.0.0/8,
 *   ::1) never go through the proxy: the one exception is `STAGECHECK_PROXY_LOOPBACK=1`, a switch
 *   for the project's own tests, which have only loopback targets and a loopback proxy.
 *
 * A proxy URL may carry credentials (user:password@): they are sent as Proxy-Authorization and
 * never shown; `describeProxy` and every problem print the URL redacted.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { redactUrl } from './redact.ts';

export type Env = Record<string, string | undefined>;

export interface ProxySettings {
  /** For `https:`/`wss:` targets. */
  https?: URL;
  /** For `http:`/`ws:` targets. */
  http?: URL;
  /** NO_PROXY entries, lower-cased. */
  noProxy: string[];
  /** STAGECHECK_PROXY_LOOPBACK=1: loopback targets go through the proxy too (the project's own tests). */
  loopbackThroughProxy: boolean;
}

export interface NetworkSettings {
  /** STAGING_CA_FILE as given. */
  caFile?: string;
  /** The CA list for new TLS connections when STAGING_CA_FILE is set; undefined: Node's default store. */
  ca?: string[];
  proxy: ProxySettings;
}

export const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'] as const;
export const NETWORK_VARIABLES = ['STAGING_CA_FILE', 'STAGECHECK_PROXY_LOOPBACK', ...PROXY_VARIABLES] as const;

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The PEM certificates in `text`; throws naming what is wrong. */
function pemCertificates(text: string): string[] {
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new Error('holds no PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)');
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new Error(`certificate ${index + 1} of ${blocks.length} is not a valid X.509 certificate: ${(error as Error).message}`);
    }
  }
  return blocks;
}

function readPem(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`cannot be read${code ? ` (${code})` : ''}: ${(error as Error).message}`);
  }
  return pemCertificates(text);
}

function value(env: Env, ...names: string[]): { name: string; raw: string } | undefined {
  for (const name of names) {
    const raw = env[name]?.trim();
    if (raw) return { name, raw };
  }
  return undefined;
}

function parseProxyUrl(found: { name: string; raw: string } | undefined, problems: string[]): URL | undefined {
  if (!found) return undefined;
  // `host:port` without a scheme is how many tools accept it: read as http://host:port.
  const raw = /^[a-z][a-z0-9+.-]*:\/\//i.test(found.raw) ? found.raw : `http://${found.raw}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`${found.name} is not a valid proxy URL: "${redactUrl(found.raw)}" (expected e.g. http://proxy.example.com:3128)`);
    return undefined;
  }
  if (url.protocol !== 'http:') {
    problems.push(`${found.name} must be an http:// proxy (an HTTP CONNECT proxy), got ${url.protocol}//`);
    return undefined;
  }
  if (!url.hostname) {
    problems.push(`${found.name} has no host: "${redactUrl(found.raw)}"`);
    return undefined;
  }
  return url;
}

/** Reads and validates the network setup; problems name their variable. */
export function readNetworkEnv(env: Env): { problems: string[]; settings: NetworkSettings } {
  const problems: string[] = [];
  const settings: NetworkSettings = { proxy: { noProxy: [], loopbackThroughProxy: false } };
  const caFile = value(env, 'STAGING_CA_FILE')?.raw;
  if (caFile) {
    settings.caFile = caFile;
    try {
      const own = readPem(caFile);
      const extraFile = value(env, 'NODE_EXTRA_CA_CERTS')?.raw;
      let extra: string[] = [];
      if (extraFile) {
        try {
          extra = readPem(extraFile);
        } catch {
          // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS; so does not this.
        }
      }
      settings.ca = [...tls.rootCertificates, ...extra, ...own];
    } catch (error) {
      problems.push(`STAGING_CA_FILE "${caFile}" ${(error as Error).message}; it must be the PEM file of the CA that issued the staging certificates`);
    }
  }
  settings.proxy.https = parseProxyUrl(value(env, 'https_proxy', 'HTTPS_PROXY'), problems);
  settings.proxy.http = parseProxyUrl(value(env, 'http_proxy', 'HTTP_PROXY'), problems);
  const noProxy = value(env, 'no_proxy', 'NO_PROXY')?.raw ?? '';
  settings.proxy.noProxy = noProxy.split(/[\s,]+/).map((entry) => entry.trim().toLowerCase()).filter(Boolean);
  const loopback = value(env, 'STAGECHECK_PROXY_LOOPBACK')?.raw;
  if (loopback !== undefined) {
    if (/^(1|true|yes)$/i.test(loopback)) settings.proxy.loopbackThroughProxy = true;
    else if (!/^(0|false|no)$/i.test(loopback)) problems.push(`STAGECHECK_PROXY_LOOPBACK must be true or false, got "${loopback}"`);
  }
  return { problems, settings };
}

let processSettings: { key: string; settings: NetworkSettings } | undefined;

/**
 * The network setup of this process's environment, read again only when one of its variables
 * changed. Invalid values were reported at start by the config; here they are left out, so a
 * transport never throws over them.
 */
export function processNetwork(): NetworkSettings {
  const key = [...NETWORK_VARIABLES, 'NODE_EXTRA_CA_CERTS'].map((name) => process.env[name] ?? '').join('\n');
  if (processSettings?.key !== key) processSettings = { key, settings: readNetworkEnv(process.env).settings };
  return processSettings.settings;
}

/** True for localhost, *.localhost, 127.0.0.0/8 and ::1. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (net.isIPv4(bare)) return bare.startsWith('127.');
  if (net.isIPv6(bare)) return bare === '::1' || bare === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(bare);
  return false;
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' || protocol === 'wss:' ? '443' : '80';
}

function bypassedBy(entry: string, host: string, port: string): boolean {
  if (entry === '*') return true;
  let name = entry;
  let entryPort: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) {
    name = bracketed[1]!;
    entryPort = bracketed[2];
  } else if (!net.isIPv6(entry)) {
    const withPort = /^(.*):(\d+)$/.exec(entry);
    if (withPort) {
      name = withPort[1]!;
      entryPort = withPort[2];
    }
  }
  if (entryPort !== undefined && entryPort !== port) return false;
  if (name.startsWith('*.')) name = name.slice(1);
  if (name.startsWith('.')) return host.endsWith(name) || host === name.slice(1);
  return host === name || host.endsWith(`.${name}`);
}

/** The proxy a connection to `target` goes through, or undefined for a direct connection. */
export function proxyFor(target: string | URL, proxy: ProxySettings = processNetwork().proxy): URL | undefined {
  const url = typeof target === 'string' ? new URL(target) : target;
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  const chosen = secure ? proxy.https : proxy.http;
  if (!chosen) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (isLoopbackHost(host) && !proxy.loopbackThroughProxy) return undefined;
  const port = url.port || defaultPort(url.protocol);
  if (proxy.noProxy.some((entry) => bypassedBy(entry, host, port))) return undefined;
  return chosen;
}

/** How the run reaches the target, for the banner and the reports: no credentials. */
export function describeNetwork(settings: NetworkSettings): { ca: string; proxy: string } {
  const proxies = [
    settings.proxy.https ? `https via ${redactUrl(settings.proxy.https.href)}` : undefined,
    settings.proxy.http ? `http via ${redactUrl(settings.proxy.http.href)}` : undefined,
  ].filter(Boolean);
  return {
    ca: settings.caFile ? `system store + STAGING_CA_FILE ${settings.caFile}` : 'system store',
    proxy: proxies.length === 0
      ? 'none (direct)'
      : `${proxies.join(', ')}${settings.proxy.noProxy.length ? `; NO_PROXY ${settings.proxy.noProxy.join(',')}` : ''}; loopback ${settings.proxy.loopbackThroughProxy ? 'through the proxy (STAGECHECK_PROXY_LOOPBACK)' : 'direct'}`,
  };
}
