/**
 * HTTPS/WSS for the TLS (staging) profile: the CA and server certificate generated at start, the
 * servers that present it, and the swap to a broken certificate for the `tls_*` faults (new
 * connections get it at once; idle keep-alive connections are closed so clients reconnect).
 */
import type http from 'node:http';
import type https from 'node:https';
import { CertificateFactory, DAY_MS, SERVER_NAMES, WRONG_NAME, type Certificate } from './certificates.ts';

export type TlsFaultName = 'tls_expired' | 'tls_wrong_name' | 'tls_untrusted' | 'tls_expiring';

/** How long the normal server certificate (and the CA) are valid. */
export const CERTIFICATE_DAYS = 30;

type TlsServer = https.Server | http.Server;

export class TlsState {
  readonly factory: CertificateFactory;
  readonly ca: Certificate;
  readonly server: Certificate;
  private serving: Certificate;
  private override: TlsFaultName | undefined;
  private readonly servers: TlsServer[] = [];
  private readonly made = new Map<string, Promise<Certificate>>();

  private constructor(factory: CertificateFactory, ca: Certificate, server: Certificate) {
    this.factory = factory;
    this.ca = ca;
    this.server = server;
    this.serving = server;
  }

  /** A fresh CA and a server certificate for localhost, 127.0.0.1 and ::1, in `dir`. */
  static async create(dir: string): Promise<TlsState> {
    const factory = new CertificateFactory(dir);
    const ca = await factory.createAuthority(CERTIFICATE_DAYS);
    const server = await factory.issue({
      names: SERVER_NAMES,
      notBefore: new Date(Date.now() - 3600_000),
      notAfter: new Date(Date.now() + CERTIFICATE_DAYS * DAY_MS),
      label: 'server',
    });
    return new TlsState(factory, ca, server);
  }

  get caFile(): string {
    return this.ca.certFile;
  }

  /** What `https.createServer` needs for the certificate served right now. */
  serverOptions(): { key: string; cert: string } {
    return { key: this.serving.key, cert: this.serving.cert };
  }

  /** The certificate served right now (normal, or a fault's). */
  current(): { certificate: Certificate; fault: TlsFaultName | undefined } {
    return { certificate: this.serving, fault: this.override };
  }

  attach(server: TlsServer): void {
    this.servers.push(server);
  }

  private certificateFor(fault: TlsFaultName, days: number): Promise<Certificate> {
    const key = `${fault}:${days}`;
    let made = this.made.get(key);
    if (!made) {
      const now = Date.now();
      switch (fault) {
        case 'tls_expired':
          made = this.factory.issue({ names: SERVER_NAMES, notBefore: new Date(now - (CERTIFICATE_DAYS + 1) * DAY_MS), notAfter: new Date(now - DAY_MS), label: 'fault-expired' });
          break;
        case 'tls_wrong_name':
          made = this.factory.issue({ names: { dns: [WRONG_NAME], ips: [] }, notBefore: new Date(now - 3600_000), notAfter: new Date(now + CERTIFICATE_DAYS * DAY_MS), label: 'fault-wrong-name' });
          break;
        case 'tls_untrusted':
          made = this.factory.selfSigned({ names: SERVER_NAMES, days: CERTIFICATE_DAYS, label: 'fault-untrusted' });
          break;
        case 'tls_expiring':
          made = this.factory.issue({ names: SERVER_NAMES, notBefore: new Date(now - 3600_000), notAfter: new Date(now + days * DAY_MS), label: `fault-expiring-${String(days).replace('.', '_')}` });
          break;
      }
      made.catch(() => this.made.delete(key));
      this.made.set(key, made);
    }
    return made;
  }

  private present(certificate: Certificate): void {
    this.serving = certificate;
    for (const server of this.servers) {
      (server as https.Server).setSecureContext({ key: certificate.key, cert: certificate.cert });
      // Pooled keep-alive connections would go on with the old certificate: make clients reconnect.
      (server as http.Server).closeIdleConnections?.();
    }
  }

  /** Serves the broken certificate of `fault` (the last one set wins). */
  async serveFault(fault: TlsFaultName, params: { days?: number } = {}): Promise<void> {
    const certificate = await this.certificateFor(fault, params.days ?? 0);
    this.override = fault;
    this.present(certificate);
  }

  /** Back to the normal certificate, if `fault` is the one being served. */
  restore(fault: TlsFaultName): void {
    if (this.override !== fault) return;
    this.override = undefined;
    this.present(this.server);
  }
}
