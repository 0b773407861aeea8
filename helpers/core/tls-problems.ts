/**
 * A TLS certificate the runner refuses, said the same way by every transport (HTTP, WebSocket,
 * the network-path walk): component `network`, layer `tls`, a code per kind of problem
 * (TLS_UNTRUSTED, TLS_EXPIRED, TLS_NOT_YET_VALID, TLS_WRONG_NAME) and one first line per host,
 * so that every test refused by the same certificate groups into one cause in the reports. The
 * line names the fix: STAGING_CA_FILE for a CA the runner does not know, renewal for an expired
 * certificate, the host name for a certificate issued to another name.
 *
 * A certificate that is valid but expires soon is not a failure: {@link expiringCertificate}
 * says when, for a DEGRADED verdict that never blocks phase 2.
 */
import { CheckError } from './errors.ts';

export type CertProblem = 'untrusted' | 'expired' | 'not-yet-valid' | 'wrong-name';

/** Node/OpenSSL verification codes by the problem they stand for. */
const PROBLEM_OF_CODE: Record<string, CertProblem> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'untrusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'untrusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'untrusted',
  UNABLE_TO_GET_ISSUER_CERT: 'untrusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'untrusted',
  CERT_UNTRUSTED: 'untrusted',
  CERT_SIGNATURE_FAILURE: 'untrusted',
  INVALID_CA: 'untrusted',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not-yet-valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'wrong-name',
  HOSTNAME_MISMATCH: 'wrong-name',
};

export const CERT_PROBLEM_CODES: Readonly<Record<CertProblem, string>> = {
  untrusted: 'TLS_UNTRUSTED',
  expired: 'TLS_EXPIRED',
  'not-yet-valid': 'TLS_NOT_YET_VALID',
  'wrong-name': 'TLS_WRONG_NAME',
};

/** Warn when a certificate expires within this many days. */
export const CERT_WARN_DAYS = 14;

export function certProblemOf(code: string | undefined): CertProblem | undefined {
  return code === undefined ? undefined : PROBLEM_OF_CODE[code];
}

/** `host:port` of a URL as the messages name it (IPv6 in brackets, the scheme's default port filled in). */
export function hostPortOf(url: string | URL): string {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  return `${parsed.hostname}:${parsed.port || (parsed.protocol === 'https:' || parsed.protocol === 'wss:' ? '443' : '80')}`;
}

/** What is wrong and what fixes it, in one line. */
export function describeCertProblem(problem: CertProblem, hostPort: string, nodeCode: string): string {
  const host = hostPort.replace(/:\d+$/, '');
  switch (problem) {
    case 'untrusted':
      return `TLS certificate of ${hostPort} is not trusted by this runner (${nodeCode}): if the deployment uses a private or self-signed CA, set STAGING_CA_FILE to that CA's PEM file; otherwise install a certificate from a trusted CA`;
    case 'expired':
      return `TLS certificate of ${hostPort} has expired (${nodeCode}): renew the certificate of ${host} and deploy it`;
    case 'not-yet-valid':
      return `TLS certificate of ${hostPort} is not valid yet (${nodeCode}): check its start date and the clocks of the server and this runner`;
    case 'wrong-name':
      return `TLS certificate of ${hostPort} is issued for another host name (${nodeCode}): issue it for ${host} (the host of the configured URL), or configure the URL with a host name the certificate covers`;
  }
}

/** The one error for a refused certificate; `endpoint` and `evidence` say where it was met. */
export function certProblemError(input: {
  problem: CertProblem;
  hostPort: string;
  nodeCode: string;
  endpoint: string;
  elapsedMs?: number;
  evidence?: Record<string, unknown>;
  cause?: unknown;
}): CheckError {
  return new CheckError(
    describeCertProblem(input.problem, input.hostPort, input.nodeCode),
    {
      component: 'network',
      layer: 'tls',
      endpoint: input.endpoint,
      code: CERT_PROBLEM_CODES[input.problem],
      elapsedMs: input.elapsedMs,
      evidence: { nodeCode: input.nodeCode, ...input.evidence },
    },
    input.cause === undefined ? undefined : { cause: input.cause },
  );
}

/** A DEGRADED reason when the certificate expires within `warnDays`, else undefined. */
export function expiringCertificate(hostPort: string, validTo: Date | undefined, now = Date.now(), warnDays = CERT_WARN_DAYS): string | undefined {
  if (validTo === undefined || Number.isNaN(validTo.getTime())) return undefined;
  const days = (validTo.getTime() - now) / 86_400_000;
  if (days < 0 || days >= warnDays) return undefined;
  return `TLS certificate of ${hostPort} expires on ${validTo.toISOString().slice(0, 10)} (in ${days.toFixed(1)} days, under ${warnDays}): renew it before then`;
}
