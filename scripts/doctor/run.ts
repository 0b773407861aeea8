/**
 * One doctor run: the endpoints, the token and the stores checked side by side (each wait
 * bounded by its own budget, so the whole run is bounded by the longest chain: the auth path,
 * then the token, then the WebSocket handshake), then the verdict. Creates no thread, message or
 * run on the target; the only things it asks for are a token and, on Redis, one run key with a TTL.
 */
import type { SuiteConfig } from '../../helpers/core/config.ts';
import { targetHead, type TargetHead } from '../../helpers/core/target-head.ts';
import { AUTH_LAYERS, checkAuth } from './auth.ts';
import { configRows, type ConfigRow } from './config-sources.ts';
import { checkEndpoint, ENDPOINTS, type EndpointResult } from './endpoints.ts';
import { DOCTOR_EXIT, firstBroken, notRun, type DoctorSection, type FirstBroken } from './report.ts';
import { checkPostgres, checkRedis } from './stores.ts';
import type { ResolvedTarget } from './target.ts';
import { checkWebSocket, WS_LAYERS } from './websocket.ts';

export interface DoctorReport {
  exitCode: number;
  healthy: boolean;
  firstBroken: FirstBroken | null;
  target: TargetHead & { reason: string; startedByDoctor: boolean; platformStartMs?: number };
  configuration: ConfigRow[];
  network: SuiteConfig['network'];
  sections: DoctorSection[];
  /** Checks alone (the ≤ 5 s of a healthy target), and the whole run including any platform start. */
  timings: { checksMs: number; totalMs?: number };
}

export async function runDoctor(resolved: ResolvedTarget): Promise<DoctorReport> {
  const { config } = resolved;
  const started = performance.now();
  const storesDone = Promise.all([checkPostgres(config), checkRedis(config)]);
  const [backend, auth, websocket] = await Promise.all(ENDPOINTS.map((spec) => checkEndpoint(spec, config))) as [EndpointResult, EndpointResult, EndpointResult];

  const token: DoctorSection = { name: 'auth token', component: 'auth', target: targetHead(config).auth.text, layers: [] };
  let accessToken: string | undefined;
  if (auth.report.ok) {
    const result = await checkAuth(config);
    token.layers = result.layers;
    accessToken = result.token;
  } else {
    token.layers = notRun([...AUTH_LAYERS], `the auth service is unreachable (${auth.report.failedLayer} failed)`);
  }

  if (!websocket.report.ok) websocket.section.layers.push(...notRun([...WS_LAYERS], `${websocket.report.failedLayer} of the WebSocket host failed`));
  else if (!accessToken) websocket.section.layers.push(...notRun([...WS_LAYERS], 'no token to authenticate the handshake with'));
  else websocket.section.layers.push(...(await checkWebSocket(config, accessToken)));

  const [postgres, redis] = await storesDone;
  const sections = [backend.section, auth.section, websocket.section, token, postgres, redis];
  const broken = firstBroken(sections) ?? null;
  return {
    exitCode: broken ? DOCTOR_EXIT.broken : DOCTOR_EXIT.healthy,
    healthy: broken === null,
    firstBroken: broken,
    target: {
      ...targetHead(config, { profile: resolved.sourced.env.PLATFORM_PROFILE ?? null }),
      reason: resolved.reason,
      startedByDoctor: resolved.platform !== undefined,
      ...(resolved.platformStartMs !== undefined ? { platformStartMs: Math.round(resolved.platformStartMs) } : {}),
    },
    configuration: configRows(resolved.sourced, config),
    network: config.network,
    sections,
    timings: { checksMs: Math.round(performance.now() - started) },
  };
}
