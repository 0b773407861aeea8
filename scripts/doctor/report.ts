/**
 * The shape of what `npm run doctor` found: sections (an endpoint, the token, a store), each a
 * list of layers in the order a connection meets them, and the verdict they add up to. Every
 * layer says its status and time; a failed one carries a one-line headline naming what broke
 * and where ("TCP refused at 127.0.0.1:4123"), and the suite's own message as its error.
 */
import type { Component } from '../../helpers/core/errors.ts';

/**
 * `ok`; `warning`: works, but something needs attention (a certificate close to expiry, a clock
 * a few seconds off); `failed`; `n/a`: does not apply (TLS on http://, a store not configured);
 * `not run`: an earlier layer it needs failed.
 */
export type LayerStatus = 'ok' | 'warning' | 'failed' | 'n/a' | 'not run';

export interface DoctorLayer {
  /** dns, tcp, proxy, tls, http-status, ws-upgrade, connection_established, token, claims, clock-skew, connect, query, round-trip. */
  layer: string;
  status: LayerStatus;
  ms?: number;
  /** What was seen, in a few words: `127.0.0.1:8080`, `GET /health → 200`, `not run: tcp failed`. */
  summary: string;
  /** For a failed layer: what broke and where, without the section name. */
  headline?: string;
  /** For a failed or warning layer: the full message, as the suite words it. */
  error?: string;
  code?: string | number;
  detail?: Record<string, unknown>;
}

export interface DoctorSection {
  /** backend, auth, websocket, token, postgres, redis. */
  name: string;
  component: Component;
  /** What it talks to: a URL, a store endpoint, the auth method. */
  target: string;
  layers: DoctorLayer[];
}

export interface FirstBroken {
  section: string;
  component: Component;
  layer: string;
  /** `backend: TCP refused at 127.0.0.1:4123`. */
  headline: string;
  error?: string;
}

export const DOCTOR_EXIT = { healthy: 0, broken: 1, config: 2 } as const;

/** The first failed layer, walking the sections in the order they are listed. */
export function firstBroken(sections: readonly DoctorSection[]): FirstBroken | undefined {
  for (const section of sections) {
    const layer = section.layers.find((l) => l.status === 'failed');
    if (layer) {
      return {
        section: section.name,
        component: section.component,
        layer: layer.layer,
        headline: `${section.name}: ${layer.headline ?? `${layer.layer} failed`}`,
        ...(layer.error ? { error: layer.error } : {}),
      };
    }
  }
  return undefined;
}

/** `not run` rows for the layers after a failure, so every layer is listed. */
export function notRun(layers: readonly string[], because: string): DoctorLayer[] {
  return layers.map((layer) => ({ layer, status: 'not run' as const, summary: `not run: ${because}` }));
}
