/**
 * A reference platform started for one scenario of the project's own tests and handed to the
 * suite as if it were a staging (STAGING_* set, so the suite starts no platform of its own):
 * faults set at start or switched on over the admin endpoint once it runs, and its stores
 * reachable for checks on what a run left behind.
 */
import { randomUUID } from 'node:crypto';
import { startLocalPlatform, type LocalPlatform } from '../../helpers/transport/local-platform.ts';

/** The local heartbeat (the suite's global setup uses the same) keeps heartbeat checks short. */
export const LOCAL_HEARTBEAT_S = '2';

export interface FaultSwitch {
  name: string;
  params?: Record<string, string | number>;
}

export interface TargetPlatform extends LocalPlatform {
  /** Env for a suite run against this platform, with a fresh run id. */
  suiteEnv(extra?: Record<string, string>): Record<string, string>;
  setFault(fault: FaultSwitch): Promise<void>;
  clearFault(fault: FaultSwitch): Promise<void>;
}

/** `pg_slow:ms=500` from a switch, as PLATFORM_FAULTS and --fault take it. */
export function faultSpec(fault: FaultSwitch): string {
  const params = Object.entries(fault.params ?? {}).map(([key, value]) => `${key}=${value}`);
  return params.length ? `${fault.name}:${params.join(',')}` : fault.name;
}

/** The heartbeat the suite is told to expect from each platform profile (staging: the contract's 35 s). */
const PROFILE_HEARTBEAT_S = { default: LOCAL_HEARTBEAT_S, staging: '35' } as const;
export type PlatformProfile = keyof typeof PROFILE_HEARTBEAT_S;

/**
 * The default profile runs with the short local heartbeat; the staging profile keeps its own
 * (35 s, TLS with the CA it prints as STAGING_CA_FILE, which the suite then trusts).
 */
export async function startTargetPlatform(options: { atStart?: readonly FaultSwitch[]; args?: string[]; profile?: PlatformProfile } = {}): Promise<TargetPlatform> {
  const profile = options.profile ?? 'default';
  const faultArgs = (options.atStart ?? []).flatMap((fault) => ['--fault', faultSpec(fault)]);
  const profileArgs = profile === 'default' ? ['--heartbeat-s', LOCAL_HEARTBEAT_S] : ['--profile', profile];
  const platform = await startLocalPlatform({ args: [...profileArgs, ...faultArgs, ...(options.args ?? [])] });
  return {
    ...platform,
    suiteEnv: (extra = {}) => ({
      ...platform.env,
      STAGING_WS_HEARTBEAT_S: PROFILE_HEARTBEAT_S[profile],
      STAGECHECK_RUN_ID: `selftest-${randomUUID().slice(0, 8)}`,
      ...extra,
    }),
    setFault: (fault) => setPlatformFault(platform, fault),
    clearFault: (fault) => adminFaults(platform, 'DELETE', fault.name),
  };
}

/** Switches a fault on over the platform's admin endpoint (PUT /__platform/faults/:name). */
export function setPlatformFault(platform: LocalPlatform, fault: FaultSwitch): Promise<void> {
  return adminFaults(platform, 'PUT', fault.name, fault.params ?? {});
}

async function adminFaults(platform: LocalPlatform, method: 'PUT' | 'DELETE', name: string, body?: unknown): Promise<void> {
  const response = await fetch(`${platform.env.PLATFORM_ADMIN_URL}/faults/${name}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-platform-admin-token': platform.env.PLATFORM_ADMIN_TOKEN ?? '' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} /__platform/faults/${name}: HTTP ${response.status} ${await response.text()}`);
}
