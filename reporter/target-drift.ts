/**
 * Which deployment was tested: the `/health` versions reporter/target-setup.ts read before and
 * after each test module (module meta, so blob reports carry them too). Two versions in one run
 * mean the results mix two deployments: the engine then calls the run INCONCLUSIVE.
 */
import type { ModuleRecord } from './records.ts';
import type { BusinessImpactReport } from './schema.ts';

export interface VersionSnapshot {
  version: string | null;
  at: string;
  error?: string;
}

export function summarizeTarget(
  given: { baseUrl: string | null; snapshots: readonly VersionSnapshot[] } | undefined,
  modules: readonly ModuleRecord[],
  warnings: string[],
): BusinessImpactReport['target'] {
  const snapshots: VersionSnapshot[] = [...(given?.snapshots ?? [])];
  for (const m of modules) snapshots.push(...readModuleSnapshots(m, warnings));
  let baseUrl = given?.baseUrl ?? null;
  for (const m of modules) {
    const url = (m.target as { baseUrl?: unknown } | undefined)?.baseUrl;
    if (!baseUrl && typeof url === 'string') baseUrl = url;
  }
  const seen = snapshots.filter((s): s is VersionSnapshot & { version: string } => typeof s.version === 'string').sort((a, b) => a.at.localeCompare(b.at));
  const byVersion = new Map<string, { version: string; firstSeenAt: string; lastSeenAt: string; snapshots: number }>();
  for (const s of seen) {
    const entry = byVersion.get(s.version) ?? { version: s.version, firstSeenAt: s.at, lastSeenAt: s.at, snapshots: 0 };
    entry.snapshots += 1;
    if (s.at < entry.firstSeenAt) entry.firstSeenAt = s.at;
    if (s.at > entry.lastSeenAt) entry.lastSeenAt = s.at;
    byVersion.set(s.version, entry);
  }
  return {
    baseUrl,
    versions: [...byVersion.values()].sort((a, b) => a.firstSeenAt.localeCompare(b.firstSeenAt)),
    before: seen[0]?.version ?? null,
    after: seen[seen.length - 1]?.version ?? null,
    drift: byVersion.size > 1,
    unavailable: snapshots.length - seen.length,
  };
}

function readModuleSnapshots(module: ModuleRecord, warnings: string[]): VersionSnapshot[] {
  const raw = module.target;
  if (raw === undefined) return [];
  const out: VersionSnapshot[] = [];
  const snaps = (raw as { snapshots?: unknown }).snapshots;
  if (!Array.isArray(snaps)) {
    warnings.push(`${module.project}:${module.file}: malformed target snapshot in the module meta; ignored`);
    return [];
  }
  for (const s of snaps) {
    const snap = s as { version?: unknown; at?: unknown; error?: unknown };
    if (typeof snap !== 'object' || snap === null || typeof snap.at !== 'string') {
      warnings.push(`${module.project}:${module.file}: malformed target snapshot in the module meta; ignored`);
      continue;
    }
    out.push({ version: typeof snap.version === 'string' ? snap.version : null, at: snap.at, ...(typeof snap.error === 'string' ? { error: snap.error } : {}) });
  }
  return out;
}
