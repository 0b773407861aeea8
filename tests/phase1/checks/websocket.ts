/**
 * Tier P1: agent events reach users only over the WebSocket. Each token-passing method the
 * contract allows must be accepted, and a connection without valid credentials refused.
 */
import { describe, expect, test } from '../../../fixtures/index.ts';
import { CHECK_IDS, DESCRIBES } from '../../check-ids.ts';
import { tamperSignature } from '../../../helpers/auth/tokens.ts';
import { expectHandshakeRefused } from '../../../helpers/contract/handshake-checks.ts';
import { probeHandshake } from '../../../helpers/transport/ws-handshake.ts';

describe(DESCRIBES.wsHandshake, { tags: ['p1', 'websocket', 'auth'], concurrent: true }, () => {
  test('accepts a token as the jwt.<token> subprotocol and announces the connection', { meta: { checkId: CHECK_IDS.wsSubprotocol } }, async ({ ws, identity }) => {
    const session = await ws.open({ method: 'subprotocol' });
    const established = session.frames.find((f) => f.type === 'connection_established');
    expect(established?.fields.connection_id, 'connection_established.connection_id').toBeTypeOf('string');
    expect(established?.fields.user_id, 'connection_established.user_id').toBe((await identity.pair()).userId);
  });

  test('accepts a token in the Authorization header', { meta: { checkId: CHECK_IDS.wsHeader } }, async ({ ws, identity }) => {
    const session = await ws.open({ method: 'header' });
    const established = session.frames.find((f) => f.type === 'connection_established');
    expect(established?.fields.user_id, 'connection_established.user_id').toBe((await identity.pair()).userId);
  });

  test('accepts a single-use ticket from POST /api/websocket/ticket', { meta: { checkId: CHECK_IDS.wsTicket } }, async ({ ws, identity }) => {
    const session = await ws.open({ method: 'ticket' });
    const established = session.frames.find((f) => f.type === 'connection_established');
    expect(established?.fields.user_id, 'connection_established.user_id').toBe((await identity.pair()).userId);
  });

  test('refuses a connection without credentials', { meta: { checkId: CHECK_IDS.wsNoCredentials } }, async ({ config, budget }) => {
    const outcome = await probeHandshake({ url: config.wsUrl, auth: { method: 'none' }, budget: budget('ws handshake', config.budgets.wsHandshake) });
    expectHandshakeRefused(outcome, 'a handshake without credentials');
  });

  test('refuses a token with a tampered signature', { meta: { checkId: CHECK_IDS.wsTampered } }, async ({ config, identity, budget }) => {
    const token = await identity.accessToken();
    const tampered = tamperSignature(token);
    const outcome = await probeHandshake({
      url: config.wsUrl,
      auth: { method: 'subprotocol', token: tampered },
      budget: budget('ws handshake', config.budgets.wsHandshake),
    });
    expectHandshakeRefused(outcome, 'a handshake with a tampered token');
  });
});

describe(DESCRIBES.wsMessaging, { tags: ['p1', 'websocket'], concurrent: true }, () => {
  test('answers ping with pong', { meta: { checkId: CHECK_IDS.wsPing } }, async ({ ws, budget, config }) => {
    const session = await ws.open();
    const start = session.frames.length;
    session.send({ type: 'ping' });
    const pong = await session.waitFor((frame, index) => index >= start && frame.type === 'pong', {
      budget: budget('wait pong', config.budgets.pong),
      what: 'pong after ping',
    });
    expect(pong.type).toBe('pong');
  });
});
