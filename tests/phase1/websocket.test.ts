/**
 * Tier P1: agent events reach users only over the WebSocket. Each token-passing method the
 * contract allows must be accepted, and a connection without valid credentials refused.
 */
import { describe, expect, test } from '../../fixtures/index.ts';
import { probeHandshake, type HandshakeOutcome } from '../../helpers/ws.ts';
import { CheckError } from '../../helpers/errors.ts';

describe('WebSocket handshake', { tags: ['p1', 'websocket', 'auth'] }, () => {
  test('accepts a token as the jwt.<token> subprotocol and announces the connection', async ({ ws, identity }) => {
    const session = await ws.open({ method: 'subprotocol' });
    const established = session.frames.find((f) => f.type === 'connection_established');
    expect(established?.fields.connection_id, 'connection_established.connection_id').toBeTypeOf('string');
    expect(established?.fields.user_id, 'connection_established.user_id').toBe((await identity.pair()).userId);
  });

  test('accepts a token in the Authorization header', async ({ ws, identity }) => {
    const session = await ws.open({ method: 'header' });
    const established = session.frames.find((f) => f.type === 'connection_established');
    expect(established?.fields.user_id, 'connection_established.user_id').toBe((await identity.pair()).userId);
  });

  test('accepts a single-use ticket from POST /api/websocket/ticket', async ({ ws, identity }) => {
    const session = await ws.open({ method: 'ticket' });
    const established = session.frames.find((f) => f.type === 'connection_established');
    expect(established?.fields.user_id, 'connection_established.user_id').toBe((await identity.pair()).userId);
  });

  test('refuses a connection without credentials', async ({ config, budget }) => {
    const outcome = await probeHandshake({ url: config.wsUrl, auth: { method: 'none' }, budget: budget('ws handshake', config.budgets.wsHandshake) });
    expectRefused(outcome, 'a handshake without credentials');
  });

  test('refuses a token with a tampered signature', async ({ config, identity, budget }) => {
    const token = await identity.accessToken();
    const tampered = `${token.slice(0, -4)}${token.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    const outcome = await probeHandshake({
      url: config.wsUrl,
      auth: { method: 'subprotocol', token: tampered },
      budget: budget('ws handshake', config.budgets.wsHandshake),
    });
    expectRefused(outcome, 'a handshake with a tampered token');
  });
});

describe('WebSocket messaging', { tags: ['p1', 'websocket'] }, () => {
  test('answers ping with pong', async ({ ws, budget, config }) => {
    const session = await ws.open();
    const start = session.frames.length;
    session.send({ type: 'ping' });
    const pong = await session.waitFor((frame, index) => index >= start && frame.type === 'pong', {
      budget: budget('wait pong', config.budgets.wsReceive),
      what: 'pong after ping',
    });
    expect(pong.type).toBe('pong');
  });
});

/** The contract's refusal forms: HTTP 401/403 before the upgrade, or 101 then close 1008. */
function expectRefused(outcome: HandshakeOutcome, what: string): void {
  const refused = (outcome.kind === 'http-rejected' && (outcome.status === 401 || outcome.status === 403))
    || (outcome.kind === 'closed-after-upgrade' && outcome.code === 1008);
  if (!refused) {
    throw new CheckError(`${what} was not refused as the contract requires (HTTP 401/403, or close 1008): got ${JSON.stringify(outcome)}`, {
      component: 'websocket',
      layer: outcome.kind === 'closed-after-upgrade' ? 'ws-close' : 'ws-handshake',
      evidence: { outcome },
    });
  }
}
