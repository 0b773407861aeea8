/**
 * The one classifier of low-level network errors, shared by every transport (HTTP, WebSocket,
 * stores, the network-path walk): which code an error carries, which layer (DNS, TCP, TLS)
 * that code belongs to, and the codes a transport uses when a phase runs out of time.
 */

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA', 'ENODATA', 'ESERVFAIL', 'ENOTIMP', 'EREFUSED']);
const TCP_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'ETIMEDOUT',
  'EPIPE',
  'EADDRNOTAVAIL',
  'ECONNABORTED',
]);
const TLS_CODES = new Set([
  'EPROTO',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'HOSTNAME_MISMATCH',
  'INVALID_CA',
]);

/** Layer a low-level network error code belongs to, or undefined when it is not a network code. */
export function layerOfNetworkCode(code: string): 'dns' | 'tcp' | 'tls' | undefined {
  if (DNS_CODES.has(code)) return 'dns';
  if (TCP_CODES.has(code)) return 'tcp';
  if (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code.startsWith('CERT_')) return 'tls';
  return undefined;
}

/**
 * The most specific `code` on an error, its cause chain or (AggregateError) its first inner error.
 * undici's own `UND_ERR_*` wrappers are looked through to the system error they carry.
 */
export function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '' && !code.startsWith('UND_ERR')) return code;
    const inner = (current as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.length > 0) {
      current = inner[0];
      continue;
    }
    const cause = (current as { cause?: unknown }).cause;
    if (cause === undefined) return typeof code === 'string' ? code : undefined;
    current = cause;
  }
  return undefined;
}

/** The code a transport reports when a phase did not finish by its deadline. */
export const TIMEOUT_CODES = {
  dns: 'DNS_TIMEOUT',
  tcp: 'CONNECT_TIMEOUT',
  tls: 'TLS_HANDSHAKE_TIMEOUT',
  headers: 'HEADERS_TIMEOUT',
  body: 'BODY_TIMEOUT',
} as const;
