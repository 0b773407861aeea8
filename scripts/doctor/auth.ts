/**
 * The configured way of authenticating, tried once: a token obtained (test-auth with the bypass
 * key, or login with STAGING_TEST_EMAIL/PASSWORD, by the suite's TokenSession; or minted locally
 * with STAGING_JWT_SECRET), its claims checked against the contract (`iss`, `aud`, `exp` in the
 * future, `token_type` access, `sub`), and this runner's clock against the auth service's `Date`
 * header: tokens are renewed by their `exp` as this clock reads it (helpers/auth/tokens.ts).
 *
 * The token is never shown; its claims are (they carry no secret).
 */
import { decodeJwt } from 'jose/jwt/decode';
import type { JWTPayload } from 'jose';
import { JWT_AUDIENCE, JWT_ISSUER, TokenSession } from '../../helpers/auth/tokens.ts';
import type { SuiteConfig } from '../../helpers/core/config.ts';
import { isCheckError } from '../../helpers/core/errors.ts';
import { formatMs, truncateText } from '../../helpers/core/format.ts';
import { httpDeadlines } from '../../helpers/core/endpoint-classes.ts';
import { createHttpClient } from '../../helpers/transport/http.ts';
import { notRun, type DoctorLayer } from './report.ts';

export const AUTH_LAYERS = ['token', 'claims', 'clock-skew'] as const;

/** A clock off by this much is worth saying; by SKEW_FAIL_MS it breaks renewal ahead of `exp`. */
const SKEW_WARN_MS = 5_000;
/** TokenSession renews at least 30 s before `exp`: a clock further off can hold a token the server already expired. */
const SKEW_FAIL_MS = 30_000;

const ENDPOINT: Record<SuiteConfig['auth']['method'], string> = {
  'test-auth': 'POST /auth/e2e/test-auth',
  login: 'POST /auth/login',
  mint: 'minted locally with STAGING_JWT_SECRET',
};

export interface AuthResult {
  layers: DoctorLayer[];
  /** The access token, for the WebSocket handshake; undefined when none was obtained. */
  token?: string;
}

export async function checkAuth(config: SuiteConfig): Promise<AuthResult> {
  const started = performance.now();
  let token: string;
  let userId: string;
  try {
    const pair = await new TokenSession({ config, label: 'doctor' }).pair();
    token = pair.accessToken;
    userId = pair.userId;
  } catch (error) {
    if (!isCheckError(error)) throw error;
    const { code, layer } = error.details;
    const headline = layer === 'http-status' ? `${ENDPOINT[config.auth.method]} answered ${String(code)}` : `${ENDPOINT[config.auth.method]} failed at ${layer}${code !== undefined ? ` (${String(code)})` : ''}`;
    return {
      layers: [
        { layer: 'token', status: 'failed', ms: Math.round(performance.now() - started), summary: headline, headline, error: withBody(error.message, error.details.evidence?.body), ...(code !== undefined ? { code } : {}) },
        ...notRun(['claims'], 'no token'),
        await clockSkew(config),
      ],
    };
  }
  const tokenLayer: DoctorLayer = { layer: 'token', status: 'ok', ms: Math.round(performance.now() - started), summary: `${ENDPOINT[config.auth.method]} → access token for ${userId}` };
  return { layers: [tokenLayer, checkClaims(token), await clockSkew(config)], token };
}

function checkClaims(token: string): DoctorLayer {
  let claims: JWTPayload;
  try {
    claims = decodeJwt(token);
  } catch (error) {
    return { layer: 'claims', status: 'failed', summary: 'the access token is not a readable JWT', headline: 'claims: the access token is not a readable JWT', error: (error as Error).message };
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const now = Date.now();
  const problems = [
    claims.iss === JWT_ISSUER ? undefined : `iss is ${JSON.stringify(claims.iss)}, the contract says "${JWT_ISSUER}"`,
    audiences.includes(JWT_AUDIENCE) ? undefined : `aud is ${JSON.stringify(claims.aud)}, the contract says "${JWT_AUDIENCE}"`,
    typeof claims.exp !== 'number' ? 'no exp claim' : claims.exp * 1000 <= now ? `exp ${new Date(claims.exp * 1000).toISOString()} has already passed` : undefined,
    claims.token_type === 'access' ? undefined : `token_type is ${JSON.stringify(claims.token_type)}, the contract says "access"`,
    typeof claims.sub === 'string' && claims.sub !== '' ? undefined : 'no sub claim',
  ].filter((p): p is string => p !== undefined);
  const expires = typeof claims.exp === 'number' ? `exp ${new Date(claims.exp * 1000).toISOString()} (in ${inMinutes(claims.exp * 1000 - now)})` : 'no exp';
  const summary = `iss ${String(claims.iss)} · aud ${audiences.join(',')} · ${expires} · token_type ${String(claims.token_type)} · sub ${String(claims.sub)}`;
  if (problems.length === 0) return { layer: 'claims', status: 'ok', summary, detail: { iss: claims.iss, aud: claims.aud, exp: claims.exp, iat: claims.iat, token_type: claims.token_type, sub: claims.sub } };
  return { layer: 'claims', status: 'failed', summary, headline: `claims: ${problems[0]}`, error: `the access token breaks the contract: ${problems.join('; ')}` };
}

/** The service's own words say which refusal it is (wrong key, key not configured, production). Already redacted by the HTTP client. */
function withBody(message: string, body: unknown): string {
  return typeof body === 'string' && body.trim() !== '' ? `${message}: ${truncateText(body.trim(), 300)}` : message;
}

/** `30 min` for a token's remaining life; seconds below two minutes. */
function inMinutes(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : formatMs(ms);
}

/**
 * Server time from the auth service's `Date` header (GET /health) against this runner's clock
 * at the middle of the request. `Date` has whole seconds, so the skew is known to about ±0.5 s
 * plus half the round trip.
 */
async function clockSkew(config: SuiteConfig): Promise<DoctorLayer> {
  const client = createHttpClient({ baseUrl: config.authUrl, component: 'auth', ...httpDeadlines(config.budgets) });
  const sentAt = Date.now();
  try {
    const result = await client.request('GET', '/health');
    const midpoint = (sentAt + Date.now()) / 2;
    const date = result.headers.date;
    const serverMs = date ? Date.parse(date) : Number.NaN;
    if (Number.isNaN(serverMs)) {
      return { layer: 'clock-skew', status: 'warning', ms: Math.round(result.timings.totalMs), summary: 'not measured: GET /health carried no Date header', error: 'the auth service sent no Date header, so the clock skew could not be measured' };
    }
    // Date truncates to the second: the server's clock lies in [serverMs, serverMs + 1 s).
    const skewMs = Math.round(serverMs + 500 - midpoint);
    const shown = `${skewMs >= 0 ? '+' : '-'}${formatMs(Math.abs(skewMs))}`;
    const summary = `server ${skewMs >= 0 ? 'ahead' : 'behind'} by ${shown.slice(1)} (${shown}, ±${formatMs(500 + result.timings.totalMs / 2)}; Date ${date})`;
    const base = { layer: 'clock-skew', ms: Math.round(result.timings.totalMs), summary, detail: { skewMs, date } };
    if (Math.abs(skewMs) >= SKEW_FAIL_MS) {
      return { ...base, status: 'failed', headline: `clock skew ${shown} against the auth service's Date header (at most ${formatMs(SKEW_FAIL_MS)})`, error: `this runner's clock is ${shown} off the auth service's: tokens are renewed ${formatMs(SKEW_FAIL_MS)} before exp by this clock, so a token the server already expired could be used; sync the clock (NTP)` };
    }
    return Math.abs(skewMs) >= SKEW_WARN_MS ? { ...base, status: 'warning', error: `clock skew ${shown}: sync this runner's clock (NTP)` } : { ...base, status: 'ok' };
  } catch (error) {
    if (!isCheckError(error)) throw error;
    return { layer: 'clock-skew', status: 'failed', summary: error.message, headline: `clock-skew: GET /health failed at ${error.details.layer} (${String(error.details.code)})`, error: error.message };
  } finally {
    await client.close();
  }
}
