import { z } from 'zod';
import { BehaviourSwitches, FractionCounter, GARBAGE_KINDS, STALL_POINTS } from './behaviour.ts';
import type { TcpProxy } from './tcp-proxy.ts';
import type { TlsFaultName, TlsState } from '../tls/tls-state.ts';

/**
 * Everything a fault may switch. Store faults act on the proxies; the others set a behaviour
 * switch that the component they break reads (backend routes, token checks, WebSocket gateway
 * and sessions, agent runner).
 */
export interface FaultContext {
  postgresProxy: TcpProxy;
  redisProxy: TcpProxy;
  behaviour: BehaviourSwitches;
  /** The certificates served, when the platform runs with TLS (staging profile). */
  tls: TlsState | undefined;
}

export type FaultComponent = 'postgres' | 'redis' | 'backend' | 'auth' | 'websocket' | 'agent' | 'network';

/** What a fault needs from the running platform: `tls` faults only make sense over HTTPS/WSS. */
export type FaultRequirement = 'tls';

export interface FaultDefinition {
  name: string;
  component: FaultComponent;
  description: string;
  /** Validates (and coerces: CLI params arrive as strings) the parameters. */
  params: z.ZodType<Record<string, unknown>>;
  requires?: FaultRequirement;
  apply(context: FaultContext, params: Record<string, unknown>): Promise<void> | void;
  clear(context: FaultContext): Promise<void> | void;
}

function defineFault<S extends z.ZodType<Record<string, unknown>>>(definition: {
  name: string;
  component: FaultComponent;
  description: string;
  params: S;
  requires?: FaultRequirement;
  apply(context: FaultContext, params: z.infer<S>): Promise<void> | void;
  clear(context: FaultContext): Promise<void> | void;
}): FaultDefinition {
  return definition as unknown as FaultDefinition;
}

const noParams = z.object({}).strict();

function tlsOf(context: FaultContext): TlsState {
  // FaultSwitch refuses these faults without TLS before calling apply; this is the backstop.
  if (!context.tls) throw new Error('TLS faults need the platform started with TLS (--profile staging or --tls)');
  return context.tls;
}

/** A fault that makes the platform serve a broken certificate on HTTPS and WSS. */
function tlsFault(name: TlsFaultName, description: string, params: z.ZodType<Record<string, unknown>> = noParams): FaultDefinition {
  return defineFault({
    name,
    component: 'network',
    description,
    params,
    requires: 'tls',
    apply: (context, values) => tlsOf(context).serveFault(name, values as { days?: number }),
    clear: (context) => context.tls?.restore(name),
  });
}

/** A path with `*` wildcards (one segment each) → a regular expression matching a whole path. */
function pathPattern(path: string): RegExp {
  const parts = path.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[^/]+')}/?$`);
}

export const faultCatalog: readonly FaultDefinition[] = [
  defineFault({
    name: 'pg_slow',
    component: 'postgres',
    description: 'Delays every PostgreSQL server→client chunk by `ms` milliseconds (slow database).',
    params: z.object({ ms: z.coerce.number().int().min(0).max(120_000).default(500) }).strict(),
    apply: (context, params) => context.postgresProxy.setDelay('toClient', params.ms),
    clear: (context) => context.postgresProxy.setDelay('toClient', 0),
  }),
  defineFault({
    name: 'pg_down',
    component: 'postgres',
    description: 'PostgreSQL unreachable: open connections are cut and new ones refused.',
    params: noParams,
    apply: (context) => context.postgresProxy.setRefusing(true, 'pg_down'),
    clear: (context) => context.postgresProxy.setRefusing(false, 'pg_down'),
  }),
  defineFault({
    name: 'redis_silent',
    component: 'redis',
    description: 'Redis black hole: connections open and stay open, but nothing is forwarded either way.',
    params: noParams,
    apply: (context) => context.redisProxy.setBlackhole(true),
    clear: (context) => context.redisProxy.setBlackhole(false),
  }),
  defineFault({
    name: 'redis_refused',
    component: 'redis',
    description: 'Redis unreachable: open connections are cut and new ones refused.',
    params: noParams,
    apply: (context) => context.redisProxy.setRefusing(true, 'redis_refused'),
    clear: (context) => context.redisProxy.setRefusing(false, 'redis_refused'),
  }),
  defineFault({
    name: 'health_lies',
    component: 'postgres',
    description:
      'PostgreSQL is down for real traffic (as pg_down) but every health endpoint (/health, /health/ready, /api/health, /ws/health, auth /health) ' +
      'reports it healthy and connected: only deeper checks (a direct probe, creating a thread, an agent run) can tell.',
    params: noParams,
    apply: async (context) => {
      context.behaviour.set('health_lies', {});
      await context.postgresProxy.setRefusing(true, 'health_lies');
    },
    clear: async (context) => {
      context.behaviour.clear('health_lies');
      await context.postgresProxy.setRefusing(false, 'health_lies');
    },
  }),
  defineFault({
    name: 'backend_503',
    component: 'backend',
    description: 'The backend answers 503 {status:"unhealthy", message} to every HTTP request (except /__platform) and to every WebSocket upgrade.',
    params: noParams,
    apply: (context) => context.behaviour.set('backend_503', {}),
    clear: (context) => context.behaviour.clear('backend_503'),
  }),
  defineFault({
    name: 'ws_reject_503',
    component: 'websocket',
    description:
      'A fraction `rate` of WebSocket handshakes is answered HTTP 503 before the upgrade, deterministically: counting handshakes from ' +
      'when the fault is set, the n-th is rejected when floor(n*rate) > floor((n-1)*rate) (rate 0.2: every 5th, exactly 4 of 20).',
    params: z.object({ rate: z.coerce.number().min(0).max(1).default(1) }).strict(),
    apply: (context, params) => context.behaviour.set('ws_reject_503', { rate: params.rate, counter: new FractionCounter(params.rate) }),
    clear: (context) => context.behaviour.clear('ws_reject_503'),
  }),
  defineFault({
    name: 'ws_close_1011',
    component: 'websocket',
    description: 'WebSocket handshakes with valid credentials complete (101), then the server closes with 1011 (service not ready) before connection_established.',
    params: noParams,
    apply: (context) => context.behaviour.set('ws_close_1011', {}),
    clear: (context) => context.behaviour.clear('ws_close_1011'),
  }),
  defineFault({
    name: 'ws_accept_invalid_tokens',
    component: 'websocket',
    description:
      'The WebSocket gateway skips token verification (signature, exp, aud, iss, token_type): invalid, expired, wrong-audience and refresh tokens ' +
      'establish a session (user = the unverified `sub`, or "anonymous" when the token does not decode).',
    params: noParams,
    apply: (context) => context.behaviour.set('ws_accept_invalid_tokens', {}),
    clear: (context) => context.behaviour.clear('ws_accept_invalid_tokens'),
  }),
  defineFault({
    name: 'revocation_ignored',
    component: 'auth',
    description:
      'The backend (HTTP and WebSocket) no longer consults the revocation list: tokens revoked by /auth/logout keep working there ' +
      '(the auth service itself, /auth/verify, still reports them revoked).',
    params: noParams,
    apply: (context) => context.behaviour.set('revocation_ignored', {}),
    clear: (context) => context.behaviour.clear('revocation_ignored'),
  }),
  defineFault({
    name: 'bypass_key_ignored',
    component: 'auth',
    description: 'POST /auth/e2e/test-auth issues tokens without checking X-E2E-Bypass-Key: a missing or wrong key is accepted.',
    params: noParams,
    apply: (context) => context.behaviour.set('bypass_key_ignored', {}),
    clear: (context) => context.behaviour.clear('bypass_key_ignored'),
  }),
  defineFault({
    name: 'auth_input_unchecked',
    component: 'auth',
    description:
      'The auth service stops validating request bodies (login, refresh, test-auth): malformed JSON or a missing field crashes the handler, ' +
      'answered 500 internal_error instead of 422. Valid requests work as before.',
    params: noParams,
    apply: (context) => context.behaviour.set('auth_input_unchecked', {}),
    clear: (context) => context.behaviour.clear('auth_input_unchecked'),
  }),
  defineFault({
    name: 'agent_stall',
    component: 'agent',
    description:
      'Each run stops emitting after its first `after` event and never completes: no terminal event, nothing more persisted, the connection stays open.',
    params: z.object({ after: z.enum(STALL_POINTS).default('tool_executing') }).strict(),
    apply: (context, params) => context.behaviour.set('agent_stall', { after: params.after }),
    clear: (context) => context.behaviour.clear('agent_stall'),
  }),
  defineFault({
    name: 'agent_canned',
    component: 'agent',
    description:
      'A fallback handler answers every run: agent_started, agent_thinking, one tool_executing/tool_completed pair for a tool that does not run ' +
      '(results {}), agent_completed with a fixed canned final_response that answers nothing. The thread and both messages are still written.',
    params: noParams,
    apply: (context) => context.behaviour.set('agent_canned', {}),
    clear: (context) => context.behaviour.clear('agent_canned'),
  }),
  defineFault({
    name: 'agent_out_of_order',
    component: 'agent',
    description:
      'Real runs, events out of contract order: the first agent_thinking is sent before agent_started, and every tool_completed before its tool_executing.',
    params: noParams,
    apply: (context) => context.behaviour.set('agent_out_of_order', {}),
    clear: (context) => context.behaviour.clear('agent_out_of_order'),
  }),
  defineFault({
    name: 'agent_tool_unmatched',
    component: 'agent',
    description: "Real runs, but the first tool_executing of each run is never followed by its tool_completed; the run still ends with agent_completed.",
    params: noParams,
    apply: (context) => context.behaviour.set('agent_tool_unmatched', {}),
    clear: (context) => context.behaviour.clear('agent_tool_unmatched'),
  }),
  defineFault({
    name: 'agent_double_terminal',
    component: 'agent',
    description: 'Real runs, but the terminal event is sent twice (agent_completed twice, or agent_error twice).',
    params: noParams,
    apply: (context) => context.behaviour.set('agent_double_terminal', {}),
    clear: (context) => context.behaviour.clear('agent_double_terminal'),
  }),
  defineFault({
    name: 'answer_not_persisted',
    component: 'agent',
    description: 'Runs complete normally over the WebSocket, but the assistant message is never saved (the user message is).',
    params: noParams,
    apply: (context) => context.behaviour.set('answer_not_persisted', {}),
    clear: (context) => context.behaviour.clear('answer_not_persisted'),
  }),
  defineFault({
    name: 'thread_leak',
    component: 'backend',
    description: "GET /api/threads/:id and /api/threads/:id/messages answer 200 to any authenticated user, not only the thread's owner.",
    params: noParams,
    apply: (context) => context.behaviour.set('thread_leak', {}),
    clear: (context) => context.behaviour.clear('thread_leak'),
  }),
  defineFault({
    name: 'agent_slow',
    component: 'agent',
    description:
      'Each run takes `ms` extra: ms/10 is added before each of the first ten paced events after agent_started (agent_thinking, tool_executing, ' +
      'tool_completed) and whatever is left before agent_completed, so a successful run is exactly `ms` slower and no single gap grows by more than ms/10 ' +
      '(ms/5 for the shorter "previous question" run). Runs that fail end early without the rest.',
    params: z.object({ ms: z.coerce.number().int().min(0).max(600_000).default(40_000) }).strict(),
    apply: (context, params) => context.behaviour.set('agent_slow', { ms: params.ms }),
    clear: (context) => context.behaviour.clear('agent_slow'),
  }),
  defineFault({
    name: 'http_slow',
    component: 'backend',
    description:
      'The backend answers requests whose path matches `path` (`*` is one path segment, e.g. /api/threads/*/messages) `ms` milliseconds late, ' +
      'all of them or only those of `method`: a slow endpoint, everything else at full speed.',
    params: z
      .object({
        path: z.string().regex(/^\/[^\s?#]*$/, 'a path such as /api/threads/*/messages'),
        ms: z.coerce.number().int().min(0).max(120_000).default(4_000),
        method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
      })
      .strict(),
    apply: (context, params) => context.behaviour.set('http_slow', { path: params.path, pattern: pathPattern(params.path), ms: params.ms, ...(params.method ? { method: params.method } : {}) }),
    clear: (context) => context.behaviour.clear('http_slow'),
  }),
  defineFault({
    name: 'no_heartbeat',
    component: 'websocket',
    description: 'The server never sends heartbeat frames, however long the client stays silent (connections are still kept open).',
    params: noParams,
    apply: (context) => context.behaviour.set('no_heartbeat', {}),
    clear: (context) => context.behaviour.clear('no_heartbeat'),
  }),
  defineFault({
    name: 'no_pong',
    component: 'websocket',
    description: 'The server never answers a ping with a pong (every other frame is still answered, the connection stays open).',
    params: noParams,
    apply: (context) => context.behaviour.set('no_pong', {}),
    clear: (context) => context.behaviour.clear('no_pong'),
  }),
  defineFault({
    name: 'frame_garbage',
    component: 'websocket',
    description:
      'During each agent run, right after agent_started, the server also sends one malformed frame of `kind`: non_json (truncated JSON text), ' +
      'binary (a binary frame), huge (a ~10 MB agent_thinking text frame), no_type (a JSON object without "type"), ' +
      "foreign_run_id (an agent_thinking event carrying another run's run_id).",
    params: z.object({ kind: z.enum(GARBAGE_KINDS).default('non_json') }).strict(),
    apply: (context, params) => context.behaviour.set('frame_garbage', { kind: params.kind }),
    clear: (context) => context.behaviour.clear('frame_garbage'),
  }),
  tlsFault(
    'tls_expired',
    'HTTPS and WSS present a certificate from the printed CA, for the right names, that expired a day ago (TLS profile only; new connections, idle ones are closed).',
  ),
  tlsFault(
    'tls_wrong_name',
    'HTTPS and WSS present a valid certificate from the printed CA issued for another host name (wrong-host.stagecheck.invalid), not localhost/127.0.0.1/::1 (TLS profile only).',
  ),
  tlsFault(
    'tls_untrusted',
    'HTTPS and WSS present a self-signed certificate for the right names and dates that the printed CA did not issue (TLS profile only).',
  ),
  tlsFault(
    'tls_expiring',
    'HTTPS and WSS present a valid certificate from the printed CA that expires in `days` days (default 7): still trusted, soon to break (TLS profile only).',
    z.object({ days: z.coerce.number().positive().max(365).default(7) }).strict(),
  ),
];

/** The catalog as JSON for GET /__platform/faults. */
export function describeCatalog(catalog: readonly FaultDefinition[] = faultCatalog): Array<{
  name: string;
  component: FaultComponent;
  description: string;
  params: unknown;
  requires?: FaultRequirement;
}> {
  return catalog.map((fault) => ({
    name: fault.name,
    component: fault.component,
    description: fault.description,
    params: z.toJSONSchema(fault.params, { io: 'input', unrepresentable: 'any' }),
    ...(fault.requires ? { requires: fault.requires } : {}),
  }));
}
