/**
 * What the contract accepts as a refused or an accepted WebSocket handshake, as checks that
 * fail with a CheckError carrying the classified outcome.
 */
import { CheckError } from '../core/errors.ts';
import { classifyHandshake, type HandshakeOutcome } from '../transport/ws-handshake.ts';

/**
 * The contract's refusal forms for a WebSocket handshake: HTTP 401/403 before the upgrade, or
 * 101 then close 1008. Anything else (established, another close code, a timeout) fails with
 * a CheckError carrying the outcome.
 */
export function expectHandshakeRefused(outcome: HandshakeOutcome, what: string): void {
  const refused = (outcome.kind === 'http-rejected' && (outcome.status === 401 || outcome.status === 403))
    || (outcome.kind === 'closed-after-upgrade' && outcome.code === 1008);
  if (refused) return;
  const got = outcome.kind === 'established'
    ? `it was accepted (connection ${outcome.connectionId}, user ${outcome.userId})`
    : `got ${JSON.stringify(outcome)}`;
  throw new CheckError(`${what} was not refused as the contract requires (HTTP 401/403, or close 1008): ${got}`, {
    component: 'websocket',
    ...classifyHandshake(outcome),
    evidence: { outcome },
  });
}

/** The handshake must end in `connection_established` (a control before a refusal is checked). */
export function expectHandshakeAccepted(outcome: HandshakeOutcome, what: string): void {
  if (outcome.kind === 'established') return;
  throw new CheckError(`${what} was not accepted: ${JSON.stringify(outcome)}`, {
    component: 'websocket',
    ...classifyHandshake(outcome),
    evidence: { outcome },
  });
}
