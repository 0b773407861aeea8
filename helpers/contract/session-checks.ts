/**
 * Checks on what a WebSocket session saw of agent runs, failing as CheckErrors that name the
 * component and layer: no event of another run (cross-talk), and a ping barrier that lets
 * frames the server queued arrive before a check reads the capture.
 */
import type { Budget } from '../core/budgets.ts';
import { CheckError } from '../core/errors.ts';
import { compactFrame, runIdOf, type CapturedFrame } from '../core/frames.ts';
import type { WsSession } from '../transport/ws.ts';
import { isAgentEventType } from './agent-events.ts';

/**
 * Sends a ping and waits for its pong: frames the server queued before the pong (a late
 * duplicate terminal, another run's events) have arrived by then.
 */
export async function pingBarrier(session: WsSession, budget: Budget): Promise<void> {
  const from = session.frames.length;
  session.send({ type: 'ping' });
  await session.waitFor((frame) => frame.type === 'pong', { budget, what: 'pong after ping (barrier)', fromIndex: from });
}

/**
 * Every agent event this session received belongs to one of `runIds` (and carries it): no
 * event of another run, no event without a run id.
 */
export function expectOnlyRuns(session: WsSession, runIds: readonly string[], who: string): void {
  const foreign = session.frames.filter((frame) => isAgentEventType(frame.type) && !runIds.includes(runIdOf(frame) ?? ''));
  if (foreign.length === 0) return;
  throw new CheckError(
    `${who} received ${foreign.length} agent event(s) that belong to none of its runs (${runIds.join(', ')}): ${foreign
      .slice(0, 5)
      .map((f) => `${f.type} run_id=${String(f.fields.run_id)} (frame #${f.index})`)
      .join(', ')}`,
    {
      component: 'websocket',
      layer: 'frame',
      code: 'cross-talk',
      endpoint: session.endpoint,
      evidence: { runIds, foreign: foreign.slice(0, 20).map((f) => compactFrame(f)) },
    },
  );
}

/** The run's frames as this session captured them: every agent event carrying `runId`. */
export function framesOfRun(session: WsSession, runId: string): CapturedFrame[] {
  return session.frames.filter((frame) => isAgentEventType(frame.type) && runIdOf(frame) === runId);
}
