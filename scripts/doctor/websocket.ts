/**
 * The WebSocket layers past HTTP: the upgrade (101) and the `connection_established` frame, by
 * the suite's handshake (helpers/transport/ws-handshake.ts) with the token doctor obtained,
 * within BUDGET_WS_HANDSHAKE_MS. The handshake classifies how it ended; that outcome decides
 * which of the two layers failed, and the suite's message for it is the error.
 */
import { Budget } from '../../helpers/core/budgets.ts';
import { BUDGET_VARIABLES, type SuiteConfig } from '../../helpers/core/config.ts';
import { formatMs } from '../../helpers/core/format.ts';
import { drainRequests } from '../../helpers/core/request-log.ts';
import { redactUrl } from '../../helpers/core/redact.ts';
import { probeHandshake, WsHandshakeError, type HandshakeOutcome } from '../../helpers/transport/ws-handshake.ts';
import type { DoctorLayer } from './report.ts';

export const WS_LAYERS = ['ws-upgrade', 'connection_established'] as const;

export async function checkWebSocket(config: SuiteConfig, token: string): Promise<DoctorLayer[]> {
  const budget = new Budget('doctor websocket handshake', config.budgets.wsHandshake, undefined, { component: 'websocket' });
  drainRequests(); // the upgrade's own timing is the only entry the log holds afterwards
  const outcome = await probeHandshake({ url: config.wsUrl, auth: { method: 'subprotocol', token }, budget });
  const upgradeMs = drainRequests().requests.find((r) => r.component === 'websocket' && r.status === 101)?.ms;
  const error = outcome.kind === 'established' ? undefined : new WsHandshakeError(outcome, redactUrl(config.wsUrl), budget).message;
  const within = `${formatMs(config.budgets.wsHandshake)} (${BUDGET_VARIABLES.wsHandshake})`;
  return layersOf(outcome, upgradeMs, error, within);
}

function layersOf(outcome: HandshakeOutcome, upgradeMs: number | undefined, error: string | undefined, within: string): DoctorLayer[] {
  const upgraded = (protocol?: string): DoctorLayer => ({
    layer: 'ws-upgrade',
    status: 'ok',
    ...(upgradeMs !== undefined ? { ms: upgradeMs } : {}),
    summary: `101 Switching Protocols${protocol ? `, subprotocol ${protocol}` : ''}`,
  });
  const failed = (layer: string, headline: string, code: string | number): DoctorLayer => ({ layer, status: 'failed', ms: outcome.ms, summary: headline, headline, code, ...(error ? { error } : {}) });
  const blocked: DoctorLayer = { layer: 'connection_established', status: 'not run', summary: 'not run: the upgrade failed' };
  switch (outcome.kind) {
    case 'established':
      return [upgraded(outcome.protocol), { layer: 'connection_established', status: 'ok', ms: outcome.ms, summary: `connection_id ${outcome.connectionId} · user_id ${outcome.userId}` }];
    case 'http-rejected':
      return [failed('ws-upgrade', `WebSocket upgrade rejected with HTTP ${outcome.status}`, outcome.status), blocked];
    case 'network-error':
      return [failed('ws-upgrade', `WebSocket upgrade failed before any HTTP answer (${outcome.code})`, outcome.code), blocked];
    case 'protocol-mismatch':
      return [failed('ws-upgrade', `WebSocket upgrade: the server echoed subprotocol ${outcome.echoed ?? '(none)'}, not the one offered`, 'subprotocol'), blocked];
    case 'timeout':
      return outcome.stage === 'upgrade'
        ? [failed('ws-upgrade', `WebSocket upgrade got no answer within ${within}`, 'timeout'), blocked]
        : [upgraded(), failed('connection_established', `no connection_established frame within ${within} after the upgrade`, 'timeout')];
    case 'closed-after-upgrade':
      return [upgraded(), failed('connection_established', `the server closed the socket with ${outcome.code}${outcome.reason ? ` (${outcome.reason})` : ''} before connection_established`, outcome.code)];
    case 'unexpected-frame':
      return [upgraded(), failed('connection_established', `first frame ${outcome.frameType}, not a complete connection_established (${outcome.reason})`, outcome.frameType)];
  }
}
