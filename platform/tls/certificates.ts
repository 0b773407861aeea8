/**
 * Certificates for the TLS (staging) profile, made with the openssl CLI in the platform's own
 * temporary directory: a fresh CA per start, a server certificate signed by it, and on request
 * the broken certificates the `tls_*` faults serve.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { findOpenssl } from '../stores/binaries.ts';

const exec = promisify(execFile);

/** Every name the platform is reachable by on this machine. */
export const SERVER_NAMES = { dns: ['localhost'], ips: ['127.0.0.1', '::1'] } as const;
/** Issued for a name the platform is not reachable by (fault tls_wrong_name). */
export const WRONG_NAME = 'wrong-host.stagecheck.invalid';

export interface Certificate {
  keyFile: string;
  certFile: string;
  key: string;
  cert: string;
  notBefore: Date;
  notAfter: Date;
}

export interface Names {
  dns: readonly string[];
  ips: readonly string[];
}

const DAY_MS = 24 * 3600 * 1000;

/** openssl's `ca -startdate/-enddate` form: YYYYMMDDHHMMSSZ. */
function opensslTime(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

function subjectAltName(names: Names): string {
  return [...names.dns.map((name) => `DNS:${name}`), ...names.ips.map((ip) => `IP:${ip}`)].join(',');
}

/**
 * One CA and what it signs, in `dir`. Calls are serialised (openssl's `ca` keeps a serial file
 * and an index).
 */
export class CertificateFactory {
  readonly dir: string;
  private readonly openssl: string;
  private queue: Promise<unknown> = Promise.resolve();
  private counter = 0;
  private authority: Certificate | undefined;

  constructor(dir: string) {
    this.dir = dir;
    this.openssl = findOpenssl();
  }

  get ca(): Certificate {
    if (!this.authority) throw new Error('the CA has not been created yet');
    return this.authority;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async openSsl(args: string[]): Promise<void> {
    try {
      await exec(this.openssl, args, { cwd: this.dir, timeout: 15_000 });
    } catch (error) {
      const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim().split('\n').slice(-3).join(' | ');
      throw new Error(`openssl ${args[0]} failed: ${stderr || (error as Error).message}`);
    }
  }

  private async read(label: string, notBefore: Date, notAfter: Date): Promise<Certificate> {
    const keyFile = path.join(this.dir, `${label}.key`);
    const certFile = path.join(this.dir, `${label}.pem`);
    const [key, cert] = await Promise.all([readFile(keyFile, 'utf8'), readFile(certFile, 'utf8')]);
    return { keyFile, certFile, key, cert, notBefore, notAfter };
  }

  /** A new CA valid for `days` (from an hour ago, against clock skew). */
  createAuthority(days = 30): Promise<Certificate> {
    return this.serial(async () => {
      await mkdir(path.join(this.dir, 'issued'), { recursive: true });
      await writeFile(path.join(this.dir, 'index.txt'), '');
      await writeFile(path.join(this.dir, 'serial'), '1000\n');
      await writeFile(
        path.join(this.dir, 'ca.cnf'),
        [
          '[ca]',
          'default_ca = local',
          '[local]',
          'database = ./index.txt',
          'new_certs_dir = ./issued',
          'serial = ./serial',
          'certificate = ./ca.pem',
          'private_key = ./ca.key',
          'default_md = sha256',
          'policy = any_name',
          'unique_subject = no',
          'copy_extensions = none',
          '[any_name]',
          'commonName = supplied',
          '',
        ].join('\n'),
      );
      const notBefore = new Date(Date.now() - 3600_000);
      const notAfter = new Date(Date.now() + days * DAY_MS);
      await this.openSsl([
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', 'ca.key', '-out', 'ca.pem', '-days', String(days),
        '-subj', `/CN=stagecheck reference platform CA ${new Date().toISOString()}`,
        '-addext', 'basicConstraints=critical,CA:TRUE',
        '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      ]);
      this.authority = await this.read('ca', notBefore, notAfter);
      return this.authority;
    });
  }

  /** A server certificate signed by the CA, for `names`, valid from `notBefore` to `notAfter`. */
  issue(options: { names: Names; notBefore: Date; notAfter: Date; label?: string }): Promise<Certificate> {
    return this.serial(async () => {
      const label = options.label ?? `server-${++this.counter}`;
      const commonName = options.names.dns[0] ?? options.names.ips[0] ?? 'localhost';
      await this.openSsl([
        'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', `${label}.key`, '-out', `${label}.csr`, '-subj', `/CN=${commonName}`,
      ]);
      await writeFile(
        path.join(this.dir, `${label}.ext`),
        `subjectAltName=${subjectAltName(options.names)}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`,
      );
      await this.openSsl([
        'ca', '-batch', '-notext', '-config', 'ca.cnf', '-in', `${label}.csr`, '-out', `${label}.pem`,
        '-startdate', opensslTime(options.notBefore), '-enddate', opensslTime(options.notAfter), '-extfile', `${label}.ext`,
      ]);
      return this.read(label, options.notBefore, options.notAfter);
    });
  }

  /** A self-signed certificate for `names`: valid dates and names, but no CA anyone was told to trust. */
  selfSigned(options: { names: Names; days: number; label?: string }): Promise<Certificate> {
    return this.serial(async () => {
      const label = options.label ?? `self-signed-${++this.counter}`;
      const notBefore = new Date(Date.now() - 3600_000);
      const notAfter = new Date(Date.now() + options.days * DAY_MS);
      await this.openSsl([
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', `${label}.key`, '-out', `${label}.pem`, '-days', String(options.days),
        '-subj', `/CN=${options.names.dns[0] ?? 'localhost'}`,
        '-addext', `subjectAltName=${subjectAltName(options.names)}`,
        '-addext', 'basicConstraints=critical,CA:FALSE',
        '-addext', 'extendedKeyUsage=serverAuth',
      ]);
      return this.read(label, notBefore, notAfter);
    });
  }
}

export { DAY_MS };
