/**
 * The stable id of every check of the suite. A test declares its id in its options
 * (`test(title, { meta: { checkId: CHECK_IDS.redisProbe } }, fn)`); the reporter records it
 * (JSON `checkId`, Markdown/HTML, history), and catalog rules (`checks: [...]`), the fault
 * matrix, the benchmark and the project's own tests pick checks by it. Titles can be reworded
 * without touching any of those.
 *
 * Rules: an id never changes once shipped (a reworded test keeps its id; a new behaviour gets a
 * new id); ids are `phase<N>.<area>.<check>`, lower-case words joined by dashes; a `test.for`
 * family has one id for all its items (the item is in the title), listed in FAMILY_CHECK_IDS.
 * `selftest/unit/check-ids.test.ts` keeps this map and the spec files in step; the phase-1 and
 * phase-2 self-tests check that every test of a run carries an id, unique outside families.
 */
export const CHECK_IDS = {
  // Phase 1: infrastructure health
  agentRun: 'phase1.agent.run-over-websocket',
  authHealth: 'phase1.auth.health',
  testAuthIssues: 'phase1.auth.test-auth.issues-token',
  testAuthWrongKey: 'phase1.auth.test-auth.wrong-bypass-key',
  verifyValid: 'phase1.auth.verify.valid-token',
  verifyTampered: 'phase1.auth.verify.tampered-token',
  backendNoToken: 'phase1.backend.auth.no-token-refused',
  health: 'phase1.backend.health',
  ready: 'phase1.backend.health-ready',
  apiHealth: 'phase1.backend.api-health',
  wsHealth: 'phase1.websocket.health',
  networkBackend: 'phase1.network.path.backend',
  networkAuth: 'phase1.network.path.auth',
  networkWs: 'phase1.network.path.websocket',
  pgProbe: 'phase1.postgres.direct-probe',
  redisProbe: 'phase1.redis.direct-probe',
  threadCreate: 'phase1.threads.create',
  threadDelete: 'phase1.threads.delete',
  wsSubprotocol: 'phase1.websocket.handshake.subprotocol',
  wsHeader: 'phase1.websocket.handshake.header',
  wsTicket: 'phase1.websocket.handshake.ticket',
  wsNoCredentials: 'phase1.websocket.handshake.no-credentials',
  wsTampered: 'phase1.websocket.handshake.tampered-token',
  wsPing: 'phase1.websocket.ping',

  // Phase 2: agent pipeline
  agentTools: 'phase2.agent.tools-paired',
  agentOneTerminal: 'phase2.agent.one-terminal-event',
  agentNoStall: 'phase2.agent.no-stall',
  agentDivisionByZero: 'phase2.agent.division-by-zero',
  agentUnknownThread: 'phase2.agent.unknown-thread-refused',
  agentThreadId: 'phase2.agent.given-thread-id',
  // Phase 2: API responsiveness
  latencyHealth: 'phase2.latency.health',
  latencyApiHealth: 'phase2.latency.api-health',
  latencyVerify: 'phase2.latency.auth-verify',
  latencyThreadRead: 'phase2.latency.thread-read',
  latencyThreadCreateDelete: 'phase2.latency.thread-create-delete',
  // Phase 2: auth flows
  refreshRotates: 'phase2.auth.refresh.rotates',
  refreshReused: 'phase2.auth.refresh.reused-token',
  logoutRevokesHttp: 'phase2.auth.logout.revokes-http',
  logoutRevokesWs: 'phase2.auth.logout.revokes-websocket',
  expiredToken: 'phase2.auth.token.expired',
  tamperedToken: 'phase2.auth.token.tampered',
  wrongAudience: 'phase2.auth.token.wrong-audience',
  noTokenEverywhere: 'phase2.auth.token.missing-everywhere',
  refreshWithAccessToken: 'phase2.auth.refresh.access-token-refused',
  refreshMissingField: 'phase2.auth.refresh.missing-field',
  testAuthNoKey: 'phase2.auth.test-auth.no-bypass-key',
  testAuthMalformed: 'phase2.auth.test-auth.malformed-body',
  loginWrongPassword: 'phase2.auth.login.wrong-password',
  loginMalformed: 'phase2.auth.login.malformed-body',
  // Phase 2: golden path
  goldenAnswers: 'phase2.golden.answers-prompt',
  goldenNewThread: 'phase2.golden.new-thread',
  goldenDelete: 'phase2.golden.delete-conversation',
  // Phase 2: isolation between users
  isolationRead: 'phase2.isolation.read-thread',
  isolationMessages: 'phase2.isolation.list-messages',
  isolationDelete: 'phase2.isolation.delete-thread',
  isolationEvents: 'phase2.isolation.agent-events',
  isolationRun: 'phase2.isolation.start-run',
  // Phase 2: KPI samples
  kpiWsConnections: 'phase2.kpi.ws-connection-success',
  kpiAgentRuns: 'phase2.kpi.agent-execution-success',
  kpiGoldenPath: 'phase2.kpi.golden-path-completion',
  // Phase 2: message flow
  followUp: 'phase2.flow.follow-up',
  recallLatest: 'phase2.flow.recall-latest',
  twoRunsOneConnection: 'phase2.flow.two-runs-one-connection',
  severalUsers: 'phase2.flow.several-users',
  // Phase 2: real time
  reconnect: 'phase2.realtime.reconnect',
  heartbeat: 'phase2.realtime.heartbeat',
  ticketReused: 'phase2.realtime.ticket-reused',
  ticketExpired: 'phase2.realtime.ticket-expired',
  malformedJson: 'phase2.realtime.malformed-json',
  unknownType: 'phase2.realtime.unknown-type',
  pingLatency: 'phase2.realtime.ping-latency',
} as const;

export type CheckKey = keyof typeof CHECK_IDS;
export type CheckId = (typeof CHECK_IDS)[CheckKey];

/** Ids shared by the items of a `test.for` family (each item's title names it). */
export const FAMILY_CHECK_IDS: ReadonlySet<CheckId> = new Set<CheckId>([CHECK_IDS.goldenAnswers]);


/**
 * Describe titles that a slice of the suite is selected by with Vitest's `-t` (a title pattern
 * is the only name filter Vitest has). Each is written here once: the spec file uses it as its
 * describe title, and slices are derived with {@link titlePattern}.
 */
export const DESCRIBES = {
  agentRun: 'agent run over WebSocket',
  threadsApi: 'POST /api/threads',
  health: 'GET /health',
  ready: 'GET /health/ready',
  apiHealth: 'GET /api/health',
  wsHealth: 'GET /ws/health',
  authHealth: 'auth GET /health',
  testAuth: 'POST /auth/e2e/test-auth',
  verify: 'POST /auth/verify',
  backendAuth: 'backend authentication',
  wsHandshake: 'WebSocket handshake',
  wsMessaging: 'WebSocket messaging',
  kpiWsConnections: 'KPI: WebSocket connection success',
  pgProbe: 'PostgreSQL direct probe',
  redisProbe: 'Redis direct probe',
  networkPath: 'network path',
} as const;

export type DescribeKey = keyof typeof DESCRIBES;

/** A `-t` pattern selecting exactly the tests of these describes (whole title, then " > "). */
export function titlePattern(...keys: DescribeKey[]): string {
  const escaped = keys.map((key) => DESCRIBES[key].replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return `^(${escaped.join('|')}) `;
}
