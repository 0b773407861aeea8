/**
 * Secret stripping for everything that can end up in a report: URLs, error messages, response
 * bodies, evidence objects. Every evidence path in the helpers goes through here, so a token,
 * ticket, bypass key or password never appears in terminal output, JUnit, Markdown or HTML.
 *
 * Rules (all case-insensitive where it makes sense):
 * - URL user info (`user:password@`) is removed entirely.
 * - Query/fragment parameters whose name looks secret (ticket, token, key, secret, password, ...)
 *   keep their name and get the value `[redacted]`.
 * - `Bearer <token>` → `Bearer [redacted]`; `jwt.<token>` (the WS subprotocol form) → `jwt.[redacted]`;
 *   any JWT-looking `eyJ...` blob → `[redacted]`.
 * - JSON/header fields with secret names (`"access_token": "..."`, `X-E2E-Bypass-Key: ...`) → `[redacted]`.
 * - Each explicitly given secret, and each secret this process was configured with through its
 *   environment (see {@link configuredSecrets}), and their URL-encoded forms → `[redacted]`,
 *   longest first.
 */
/** The one marker that stands where a secret was. */
export const REDACTED = '[redacted]';

/** Variables whose values must never reach output (config.ts reads them; this module removes them). */
export const SECRET_VARIABLES = [
  'E2E_BYPASS_KEY',
  'STAGING_TEST_PASSWORD',
  'STAGING_TEST_PASSWORD_2',
  'STAGING_JWT_SECRET',
  'PLATFORM_ADMIN_TOKEN',
] as const;

/** Store, history and proxy URLs whose password is a secret too. */
const SECRET_URL_VARIABLES = ['STAGING_DATABASE_URL', 'STAGING_REDIS_URL', 'STAGECHECK_HISTORY_URL', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'] as const;

/**
 * The secret values in this process's environment (E2E_BYPASS_KEY, STAGING_TEST_PASSWORD, ...,
 * store URL passwords). Every redaction removes them, also where the caller did not pass them:
 * a password the suite sent in a request body and a staging's debug error page echoed back
 * would otherwise reach failure evidence, which Vitest prints and writes to JUnit as it is.
 */
export function configuredSecrets(env: NodeJS.ProcessEnv = process.env): readonly string[] {
  // Called for every string of every report: parsing seven URLs each time cost more than the
  // redaction itself, so the answer is kept for as long as the values stay the same.
  const values = [...SECRET_VARIABLES, ...SECRET_URL_VARIABLES].map((name) => env[name] ?? '');
  const key = values.join('\u0000');
  if (key !== lastConfigured.key) lastConfigured = { key, secrets: secretsOf(values.slice(0, SECRET_VARIABLES.length), values.slice(SECRET_VARIABLES.length)) };
  return lastConfigured.secrets;
}

let lastConfigured: { key: string; secrets: readonly string[] } = { key: '', secrets: [] };

function secretsOf(plainValues: readonly string[], urlValues: readonly string[]): string[] {
  const secrets: string[] = [];
  for (const raw of plainValues) {
    const value = raw.trim();
    if (value) secrets.push(value);
  }
  for (const url of urlValues) {
    try {
      const password = new URL(url).password;
      if (password) secrets.push(decodeURIComponent(password));
    } catch {
      // unset or not a URL: no password to know of
    }
  }
  return secrets;
}

/** Query/fragment parameter names whose values are secrets. Matched as whole name or as a suffix part. */
const SECRET_PARAM = /^(?:.*[_-])?(?:ticket|ticket_id|token|access_token|refresh_token|id_token|key|api_key|apikey|secret|password|passwd|pwd|auth|authorization|signature|sig|code|session|sessionid|credential|credentials|bypass_key)$/i;

function isSecretParam(name: string): boolean {
  return SECRET_PARAM.test(name);
}

function redactParams(paramString: string): string {
  // paramString has no leading '?' or '#'.
  return paramString
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      const rawName = pair.slice(0, eq);
      let name = rawName;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      } catch {
        // keep the raw name
      }
      return isSecretParam(name) ? `${rawName}=${REDACTED}` : pair;
    })
    .join('&');
}

/**
 * A URL fit for evidence: no `user:password@`, secret query/fragment values replaced by
 * `[redacted]`. Works on ws/wss/http/https/postgres/redis URLs; a string that does not parse as a URL
 * is passed through {@link redactSecrets} instead (so it is still safe to print).
 */
export function redactUrl(url: string | URL): string {
  const text = typeof url === 'string' ? url : url.toString();
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/i.exec(text.trim());
  if (!match) return redactSecrets(text, []);
  const scheme = match[1] ?? '';
  let authority = match[2] ?? '';
  const path = match[3] ?? '';
  const query = match[4];
  const fragment = match[5];
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1);
  let out = scheme + authority + redactSecrets(path, []);
  if (query !== undefined) out += `?${redactParams(query.slice(1))}`;
  if (fragment !== undefined) out += `#${redactParams(fragment.slice(1))}`;
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const PATTERNS: Array<[RegExp, string]> = [
  // Authorization: Bearer <token>
  [/\bBearer\s+[A-Za-z0-9\-._~+/]+=*/gi, `Bearer ${REDACTED}`],
  // WS subprotocol form jwt.<token>
  [/\bjwt\.[A-Za-z0-9\-_.~+/=]+/g, `jwt.${REDACTED}`],
  // Anything JWT-looking: base64url JSON header, optionally with payload and signature segments.
  [/\beyJ[A-Za-z0-9_-]{6,}(?:\.[A-Za-z0-9_-]*){0,2}/g, REDACTED],
  // user:password@ inside any URL in free text
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@'"]+@/gi, `$1`],
  // secret query parameters inside free text
  [
    /([?&#](?:[A-Za-z0-9]*[_-])?(?:ticket|ticket_id|token|access_token|refresh_token|id_token|key|api_key|apikey|secret|password|passwd|pwd|signature|sig|bypass_key)=)[^&\s#"'<>]+/gi,
    `$1${REDACTED}`,
  ],
  // JSON string fields with secret names: "access_token": "..."
  [
    /("(?:access_token|refresh_token|id_token|token|ticket_id|ticket|password|secret|api_key|bypass_key|client_secret|jwt_secret)"\s*:\s*")(?:[^"\\]|\\.)*(")/gi,
    `$1${REDACTED}$2`,
  ],
  // header-ish: X-E2E-Bypass-Key: value / x-e2e-bypass-key=value
  [/(x-e2e-bypass-key["']?\s*[:=]\s*["']?)[^\s"',;}]+/gi, `$1${REDACTED}`],
  // password=... in DSN-ish free text (libpq key/value strings)
  [/(\bpassword\s*=\s*)(?:'[^']*'|[^\s;&]+)/gi, `$1${REDACTED}`],
];

/**
 * Replace every occurrence of each given or configured secret (and of its URL-encoded form), and
 * of any bearer token / `jwt.<token>` subprotocol / JWT-looking `eyJ...` blob / secret query parameter /
 * secret JSON field, with `[redacted]`. Empty secrets are ignored. Safe on any string.
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined | null)[] = []): string {
  return redactWith(text, literalPatterns([...secrets, ...configuredSecrets()]));
}

function redactWith(text: string, literal: readonly RegExp[]): string {
  let out = text;
  for (const pattern of literal) out = out.replace(pattern, REDACTED);
  for (const [pattern, replacement] of PATTERNS) {
    out = out.replace(pattern, replacement);
  }
  return out;
}

/** The literal secrets' patterns by their list: a report redacts thousands of strings with one list. */
const literalPatternCache = new Map<string, RegExp[]>();
const LITERAL_PATTERN_LISTS_KEPT = 64;

/**
 * A pattern for each secret and its URL-encoded form, longest first and applied one after the
 * other, so a secret containing or overlapping another is removed whole.
 */
function literalPatterns(secrets: readonly (string | undefined | null)[]): RegExp[] {
  const literal = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length === 0) continue;
    literal.add(secret);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) literal.add(encoded);
  }
  const sorted = [...literal].sort((a, b) => b.length - a.length);
  const key = sorted.join('\u0000');
  let patterns = literalPatternCache.get(key);
  if (!patterns) {
    patterns = sorted.map((secret) => new RegExp(escapeRegExp(secret), 'g'));
    if (literalPatternCache.size >= LITERAL_PATTERN_LISTS_KEPT) literalPatternCache.clear();
    literalPatternCache.set(key, patterns);
  }
  return patterns;
}

/**
 * Deep copy of a JSON-ish value with every string passed through {@link redactSecrets} and every
 * value under a secret-looking key replaced by `[redacted]`. For evidence objects.
 */
export function redactDeep<T>(value: T, secrets: readonly (string | undefined | null)[] = []): T {
  // The secrets' patterns once for the whole value: a report holds thousands of strings.
  return walk(value, literalPatterns([...secrets, ...configuredSecrets()]), 0) as T;
}

const SECRET_KEY = /^(?:authorization|cookie|set-cookie|x-e2e-bypass-key|password|passwd|secret|client_secret|jwt_secret|access_token|refresh_token|id_token|token|ticket|ticket_id|api_key|apikey|bypass_key)$/i;

function walk(value: unknown, literal: readonly RegExp[], depth: number): unknown {
  if (depth > 20) return '[too deep]';
  if (typeof value === 'string') return redactWith(value, literal);
  if (Array.isArray(value)) return value.map((item) => walk(item, literal, depth + 1));
  if (value instanceof Error) {
    return { name: value.name, message: redactWith(value.message, literal) };
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      out[key] = SECRET_KEY.test(key) && inner !== undefined && inner !== null ? REDACTED : walk(inner, literal, depth + 1);
    }
    return out;
  }
  return value;
}
