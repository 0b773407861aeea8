import http from 'node:http';
import https from 'node:https';
import { z } from 'zod';
import type { PlatformContext } from '../context.ts';
import { createRequestListener, HttpError, type Reply, type RequestContext, type Route } from '../http/router.ts';
import { parseBody } from '../http/validate.ts';
import { linkTokenPair, revokeAccessToken, revokeRefreshOfAccess, spendRefreshToken } from '../storage/token-state.ts';
import { EmailTakenError, findUserByEmail, upsertPasswordlessUser } from '../storage/users.ts';
import { errorMessage, isoNow } from '../util/time.ts';
import { authenticateAccessToken } from './authenticate.ts';
import { hashPassword, secretsEqual, verifyPassword } from './passwords.ts';
import { DEFAULT_PERMISSIONS, issuePair, verifyToken, type Principal } from './tokens.ts';
import { timed } from '../storage/database.ts';

const HEALTH_QUERY_TIMEOUT_MS = 3000;

const loginBody = z.object({ email: z.string().min(1).max(320), password: z.string().min(1).max(1024) });
const refreshBody = z.object({ refresh_token: z.string().min(1) });
const testAuthBody = z.object({
  email: z.email().max(320).optional(),
  name: z.string().max(200).optional(),
  permissions: z.array(z.string().max(100)).max(50).optional(),
});

/** Verifying a dummy hash for unknown emails keeps login timing from revealing which emails exist. */
let dummyHash: Promise<string> | undefined;

/**
 * The request body as the handler gets it. Healthy: parsed and validated, a malformed body is a
 * 422. Under `auth_input_unchecked` the validation is gone, and what it caught crashes the
 * handler instead: a 500, as an unvalidated endpoint answers bad input.
 */
async function requestBody<S extends z.ZodType>(context: PlatformContext, request: Pick<RequestContext, 'readJson'>, schema: S, options?: { optional?: boolean }): Promise<z.infer<S>> {
  try {
    return parseBody(schema, await request.readJson(options));
  } catch (error) {
    if (error instanceof HttpError && error.status === 422 && context.behaviour.has('auth_input_unchecked')) {
      throw new HttpError(500, 'internal_error', 'internal server error');
    }
    throw error;
  }
}

function tokenStoreUnavailable(error: unknown): HttpError {
  return new HttpError(503, 'token_store_unavailable', `token store (redis) unavailable: ${errorMessage(error)}`);
}

async function tokenResponse(context: PlatformContext, principal: Principal, user: Record<string, unknown>): Promise<Reply> {
  const pair = await issuePair(context.tokens, principal);
  try {
    await linkTokenPair(context.redis, pair.access.jti, pair.access.exp, pair.refresh.jti, pair.refresh.exp);
  } catch (error) {
    throw tokenStoreUnavailable(error);
  }
  return {
    status: 200,
    body: {
      access_token: pair.access_token,
      refresh_token: pair.refresh_token,
      token_type: 'Bearer',
      expires_in: context.config.accessTokenTtlS,
      user,
    },
  };
}

function routes(context: PlatformContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/health',
      handler: async () => {
        if (!context.lifecycle.ready) return { status: 503, body: { status: 'unhealthy', reason: `service ${context.lifecycle.state}`, database_status: 'unknown' } };
        try {
          // Fault health_lies: claim the database is connected without asking it.
          if (!context.behaviour.has('health_lies')) await timed('auth health', () => context.sql`SELECT 1`, HEALTH_QUERY_TIMEOUT_MS);
          return { status: 200, body: { status: 'healthy', service: 'auth-service', version: context.config.version, database_status: 'connected', timestamp: isoNow() } };
        } catch (error) {
          return { status: 503, body: { status: 'unhealthy', reason: `database unavailable: ${errorMessage(error)}`, database_status: 'disconnected', timestamp: isoNow() } };
        }
      },
    },
    {
      method: 'POST',
      path: '/auth/login',
      handler: async (request) => {
        const { email, password } = await requestBody(context, request, loginBody);
        const user = await findUserByEmail(context.sql, email);
        dummyHash ??= hashPassword('not-a-real-password');
        const valid = await verifyPassword(password, user?.password_hash ?? (await dummyHash));
        if (!user || !valid) throw new HttpError(401, 'invalid_credentials', 'invalid email or password');
        return tokenResponse(context, { id: user.id, email: user.email }, { id: user.id, email: user.email, name: user.name });
      },
    },
    {
      method: 'POST',
      path: '/auth/refresh',
      handler: async (request) => {
        const { refresh_token } = await requestBody(context, request, refreshBody);
        const verified = await verifyToken(context.tokens, refresh_token, 'refresh');
        if (!verified.ok) throw new HttpError(401, 'invalid_refresh_token', verified.error);
        let spent: Awaited<ReturnType<typeof spendRefreshToken>>;
        try {
          spent = await spendRefreshToken(context.redis, verified.claims.jti, verified.claims.exp);
        } catch (error) {
          throw tokenStoreUnavailable(error);
        }
        if (spent !== 'ok') throw new HttpError(401, 'invalid_refresh_token', spent === 'used' ? 'refresh token already used' : 'refresh token revoked');
        const { sub, email, permissions } = verified.claims;
        return tokenResponse(context, { id: sub, email, permissions }, { id: sub, email });
      },
    },
    {
      method: 'POST',
      path: '/auth/verify',
      // The body decides: a bad token is 200 {valid:false}, as the contract pins.
      handler: async (request) => {
        const token = request.bearerToken();
        if (!token) return { status: 200, body: { valid: false, error: 'missing bearer token' } };
        const result = await authenticateAccessToken(context, token, 'auth');
        if (!result.ok) return { status: 200, body: { valid: false, error: result.error } };
        const { sub, email, exp, permissions } = result.claims;
        return { status: 200, body: { valid: true, user_id: sub, email, exp, permissions } };
      },
    },
    {
      method: 'POST',
      path: '/auth/logout',
      handler: async (request) => {
        const token = request.bearerToken();
        if (!token) throw new HttpError(401, 'not_authenticated', 'missing bearer token');
        const result = await authenticateAccessToken(context, token, 'auth');
        if (!result.ok) throw new HttpError(401, 'invalid_token', result.error);
        try {
          await revokeAccessToken(context.redis, result.claims.jti, result.claims.exp);
          await revokeRefreshOfAccess(context.redis, result.claims.jti);
        } catch (error) {
          throw tokenStoreUnavailable(error);
        }
        return { status: 200, body: { success: true, message: 'logged out; token revoked' } };
      },
    },
    {
      method: 'POST',
      path: '/auth/e2e/test-auth',
      handler: async (request) => {
        if (context.config.environment === 'production') throw new HttpError(403, 'forbidden', 'test authentication is disabled in production');
        const expected = context.config.e2eBypassKey;
        if (!expected) throw new HttpError(503, 'not_configured', 'E2E bypass key is not configured on this deployment');
        const given = request.req.headers['x-e2e-bypass-key'];
        const key = Array.isArray(given) ? given[0] : given;
        // `bypass_key_ignored`: the key check is gone, anyone can mint test users' tokens.
        if (!context.behaviour.has('bypass_key_ignored')) {
          if (!key) throw new HttpError(401, 'missing_bypass_key', 'missing X-E2E-Bypass-Key header');
          if (!secretsEqual(key, expected)) throw new HttpError(401, 'invalid_bypass_key', 'invalid X-E2E-Bypass-Key');
        }
        const body = await requestBody(context, request, testAuthBody, { optional: true });
        const email = (body.email ?? 'e2e-default@stagecheck.local').toLowerCase();
        const id = `e2e-${email.split('@')[0]}`;
        let user;
        try {
          user = await upsertPasswordlessUser(context.sql, id, email, body.name ?? `E2E ${email.split('@')[0]}`);
        } catch (error) {
          if (error instanceof EmailTakenError) throw new HttpError(409, 'email_taken', error.message);
          throw error;
        }
        const permissions = body.permissions ?? DEFAULT_PERMISSIONS;
        return tokenResponse(context, { id: user.id, email: user.email, permissions }, { id: user.id, email: user.email, name: user.name });
      },
    },
  ];
}

export function createAuthServer(context: PlatformContext): http.Server | https.Server {
  const listener = createRequestListener(routes(context), context.log, 'auth');
  // The auth service's own cold start (none unless configured).
  const gated: http.RequestListener = (req, res) => context.coldStarts.auth.run(() => listener(req, res));
  const server = context.tls ? https.createServer(context.tls.serverOptions(), gated) : http.createServer(gated);
  context.tls?.attach(server);
  return server;
}
