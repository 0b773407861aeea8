/**
 * The evidence of a failed test, as the reports show it: component and layer, the exact
 * error, endpoint, code, correlation id, timing, budget ledgers, the last WebSocket event,
 * for a 401 whose token it was, and the catalog's next steps. Built from the `report`
 * fixture's `task.meta.stagecheck.failure` (helpers/core/meta.ts), or from the bare error when
 * the fixture recorded none.
 */
import { isComponent } from '../helpers/core/errors.ts';
import { nextStepsFor, type Catalog } from './catalog.ts';
import type { StagecheckMeta } from '../helpers/core/meta.ts';
import type { TestRecord } from './records.ts';
import type { EvidenceOut } from './schema.ts';

/**
 * The target's failure or the harness's? The `report` fixture decides when it recorded the
 * failure (a CheckError's details are the target's, a failed `expect` too, anything else is
 * flagged `harnessError`). Without its record, only an error carrying a CheckError's details
 * (component and layer) is the target's: a TypeError, a failed fixture or a bare assertion
 * says nothing about which part of the target broke, so it cannot be called a product failure.
 */
export function isHarnessFailure(record: Pick<TestRecord, 'errors'>, meta: StagecheckMeta | undefined): boolean {
  if (meta?.failure) return meta.failure.harnessError === true;
  return record.errors[0]?.details === undefined;
}

const PULLED = new Set(['lastEvent', 'attribution', 'tokenAttribution']);

export function buildEvidence(record: TestRecord, meta: StagecheckMeta | undefined, catalog: Catalog): EvidenceOut {
  const f = meta?.failure;
  const firstError = record.errors[0];
  const components = meta?.components ?? [];
  const base = f
    ? { component: f.component, layer: f.layer, message: f.message, errorName: f.name }
    : {
        component: components[0] ?? record.tags.find(isComponent) ?? 'backend',
        layer: 'unknown',
        message: firstError?.message ?? 'failed without an error message',
        ...(firstError?.name ? { errorName: firstError.name } : {}),
      };
  const evidence: EvidenceOut = { ...base, ledgers: meta?.ledgers ?? [], nextSteps: [] };
  if (f?.endpoint) evidence.endpoint = f.endpoint;
  if (f?.code !== undefined) evidence.code = f.code;
  if (f?.correlationId) evidence.correlationId = f.correlationId;
  if (f?.elapsedMs !== undefined) evidence.elapsedMs = Math.round(f.elapsedMs);
  if (f?.harnessError) evidence.harnessError = true;
  if (f?.evidence) {
    const rest = Object.fromEntries(Object.entries(f.evidence).filter(([k]) => !PULLED.has(k)));
    if (Object.keys(rest).length > 0) evidence.details = rest;
  }
  const last = lastWsEvent(f?.evidence, meta);
  if (last) evidence.lastWsEvent = last;
  const attribution = tokenAttribution(f?.evidence, evidence.code);
  if (attribution) evidence.tokenAttribution = attribution;
  if (meta?.wsDump) evidence.wsDump = meta.wsDump;
  evidence.nextSteps = nextStepsFor(catalog, { ...evidence, harnessError: isHarnessFailure(record, meta) });
  return evidence;
}

function describeFrame(frame: unknown): string | undefined {
  if (typeof frame === 'string') return frame;
  if (typeof frame !== 'object' || frame === null) return undefined;
  const f = frame as Record<string, unknown>;
  if (typeof f.type !== 'string') return undefined;
  const bits = [f.type];
  for (const key of ['run_id', 'runId', 'tool_name', 'error_code', 'status']) {
    if (typeof f[key] === 'string') bits.push(`${key}=${f[key] as string}`);
  }
  for (const key of ['tMs', 'atMs', 'at']) if (typeof f[key] === 'number') bits.push(`at +${Math.round(f[key] as number)} ms`);
  return bits.join(' ');
}

/** The last WebSocket event seen: from the check's evidence, else the last timeline, else the frame dump. */
export function lastWsEvent(evidence: Record<string, unknown> | undefined, meta: StagecheckMeta | undefined): string | undefined {
  if (evidence) {
    const direct = describeFrame(evidence.lastEvent) ?? describeFrame(evidence.frame);
    if (direct) return direct;
    for (const key of ['lastFrames', 'events']) {
      const list = evidence[key];
      if (Array.isArray(list) && list.length > 0) {
        const described = describeFrame(list[list.length - 1]);
        if (described) return described;
      }
    }
  }
  const timeline = meta?.timelines[meta.timelines.length - 1];
  const event = timeline?.events[timeline.events.length - 1];
  if (timeline && event) return `${event.type} run_id=${timeline.runId} at +${Math.round(event.tMs)} ms`;
  if (meta?.wsDump) {
    const received = meta.wsDump.split('\n').filter((line) => /^\s*(?:<|←|in\b|recv)/i.test(line) || /"type"/.test(line));
    const lastLine = received[received.length - 1];
    if (lastLine) return lastLine.trim().slice(0, 200);
  }
  return undefined;
}

/** For a 401: expired during the run vs fresh token refused, when the check recorded it. */
export function tokenAttribution(evidence: Record<string, unknown> | undefined, code: string | number | undefined): string | undefined {
  const raw = evidence?.attribution ?? evidence?.tokenAttribution;
  if (typeof raw === 'object' && raw !== null) {
    const a = raw as { kind?: unknown; expiredAgoMs?: unknown; remainingMs?: unknown };
    if (a.kind === 'expired-during-run') return `the token expired during the run (${typeof a.expiredAgoMs === 'number' ? `${Math.round(a.expiredAgoMs / 1000)} s` : 'some time'} before the request): a refresh came too late`;
    if (a.kind === 'fresh-token-refused') return `a fresh token was refused (${typeof a.remainingMs === 'number' ? `${Math.round(a.remainingMs / 1000)} s` : 'time'} left before its exp): the target rejects valid tokens`;
    if (a.kind === 'unknown-token') return 'the refused token is not one this run issued';
  }
  if (typeof raw === 'string') return raw;
  if (String(code) === '401') return 'not recorded by this check (expired during the run or fresh token refused cannot be told apart)';
  return undefined;
}
