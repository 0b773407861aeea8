/**
 * The business catalog: tiers (with their MRR labels and allowed failure rates), business
 * functions, the declarative rules mapping tests to functions, KPIs (target, degraded band,
 * minimum samples) and the next-steps table. One user-editable JSON file,
 * `catalog/stagecheck.catalog.json` (or the file named by STAGECHECK_CATALOG), documented in
 * `catalog/README.md`; its schema is reporter/catalog-schema.ts.
 *
 * A revenue figure is a label of its tier, shown as the catalog says it; nothing here
 * predicts a loss.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Catalog, TierDef } from './catalog-schema.ts';
import { writeFileAtomically } from '../helpers/core/atomic-file.ts';

export type { Catalog, FunctionDef, KpiDef, NextStepRule, TierDef } from './catalog-schema.ts';

export const DEFAULT_CATALOG_PATH = fileURLToPath(new URL('../catalog/stagecheck.catalog.json', import.meta.url));

/**
 * Catalogs validated before, by the hash of their text and of the schema's source: a run whose
 * catalog and schema are unchanged reads the validated catalog back instead of loading zod
 * (about 0.1 s of CPU in the main process while the first tests run; docs/performance.md).
 */
export const VALIDATED_CATALOG_CACHE = fileURLToPath(new URL('../node_modules/.cache/stagecheck/catalog/', import.meta.url));
const SCHEMA_SOURCE = new URL('./catalog-schema.ts', import.meta.url);

/**
 * The brief's defaults, used only when the catalog file cannot be read or is invalid (the
 * run goes on, with a warning naming the problem). Function rules here are tag-based only.
 */
export const FALLBACK_CATALOG: Catalog = {
  version: 1,
  tiers: [
    { id: 'p1', name: 'P1 critical', protects: '$120K+ MRR', allowedFailureRate: 0 },
    { id: 'p2', name: 'P2 high', protects: '$80K MRR', allowedFailureRate: 0.05 },
    { id: 'p3', name: 'P3 medium-high', protects: '$50K MRR', allowedFailureRate: 0.1 },
    { id: 'p4', name: 'P4 medium', protects: '$30K MRR', allowedFailureRate: 0.1 },
    { id: 'p5', name: 'P5 medium-low', protects: '$10K MRR', allowedFailureRate: 0.2 },
    { id: 'p6', name: 'P6 low', protects: '$5K MRR', allowedFailureRate: 0.2 },
  ],
  functions: [
    { id: 'chat', name: 'Chat / golden path' },
    { id: 'agent-orchestration', name: 'Agent orchestration' },
    { id: 'real-time', name: 'Real-time communication' },
    { id: 'user-auth', name: 'User authentication' },
    { id: 'api-responsiveness', name: 'API responsiveness' },
  ],
  functionRules: [
    { match: { file: '**/golden-path.test.ts' }, functions: ['chat'] },
    { match: { tags: ['agent'] }, functions: ['agent-orchestration'] },
    { match: { tags: ['websocket'] }, functions: ['real-time'] },
    { match: { tags: ['auth'] }, functions: ['user-auth'] },
    { match: { anyTags: ['backend', 'network', 'postgres', 'redis'] }, functions: ['api-responsiveness'] },
  ],
  kpis: [
    { id: 'database-response-p95', name: 'Database response time (p95)', kind: 'latency', percentile: 95, targetMs: 3000, failMs: 5000, minSamples: 10, functions: ['chat'], component: 'postgres' },
    {
      id: 'database-response-backend', name: 'Database response time reported by the backend (p95)', kind: 'latency', percentile: 95, targetMs: 3000, failMs: 5000,
      minSamples: 1, functions: ['chat'], thresholdsOf: 'database-response-p95', component: 'postgres',
    },
    { id: 'redis-connectivity', name: 'Redis connectivity', kind: 'rate', target: 1, minSamples: 10, functions: ['real-time'] },
    { id: 'ws-connection-success', name: 'WebSocket connection success', kind: 'rate', target: 0.95, minSamples: 20, functions: ['real-time'] },
    { id: 'agent-execution-success', name: 'Agent execution success', kind: 'rate', target: 0.9, minSamples: 10, functions: ['agent-orchestration'] },
    { id: 'golden-path-completion', name: 'Golden path completion', kind: 'rate', target: 0.9, minSamples: 5, functions: ['chat'] },
    { id: 'p1-test-success', name: 'P1 critical test success', kind: 'test-success', tier: 'p1', target: 0.95, minSamples: 'all', functions: [] },
  ],
  nextSteps: [],
  endpointLatency: { percentile: 95, default: { degradedMs: 2000, failMs: 5000 }, functions: ['api-responsiveness'], endpoints: [] },
};

export interface LoadedCatalog {
  catalog: Catalog;
  path: string;
  warnings: string[];
}

/** Reads and validates the catalog; never throws (a broken catalog becomes a warning and the fallback). */
export async function loadCatalog(path = process.env.STAGECHECK_CATALOG || DEFAULT_CATALOG_PATH): Promise<LoadedCatalog> {
  let text: string;
  let raw: unknown;
  try {
    text = readFileSync(path, 'utf8');
    raw = JSON.parse(text);
  } catch (error) {
    return { catalog: FALLBACK_CATALOG, path, warnings: [`catalog ${path} could not be read (${(error as Error).message}); the built-in defaults were used`] };
  }
  const cached = join(VALIDATED_CATALOG_CACHE, `${cacheKey(text)}.json`);
  try {
    return { catalog: JSON.parse(readFileSync(cached, 'utf8')) as Catalog, path, warnings: [] };
  } catch {
    // not validated before (or the cache is unreadable): validate it now
  }
  const loaded = await parseCatalog(raw, path);
  if (loaded.warnings.length === 0) writeCached(cached, loaded.catalog);
  return loaded;
}

/** Validates a catalog already parsed from JSON; an invalid one becomes a warning naming every problem, and the fallback. */
export async function parseCatalog(raw: unknown, path = '(inline)'): Promise<LoadedCatalog> {
  const { validateCatalog } = await import('./catalog-schema.ts');
  const { catalog, problems } = validateCatalog(raw);
  if (catalog) return { catalog, path, warnings: [] };
  return { catalog: FALLBACK_CATALOG, path, warnings: [`catalog ${path} is invalid, the built-in defaults were used: ${problems.join('; ')}`] };
}

function cacheKey(catalogText: string): string {
  return createHash('sha256').update(readFileSync(SCHEMA_SOURCE)).update('\0').update(catalogText).digest('hex').slice(0, 32);
}

/** Atomic (runs side by side share the cache); a cache that cannot be written only costs the next run the validation. */
function writeCached(file: string, catalog: Catalog): void {
  try {
    writeFileAtomically(file, JSON.stringify(catalog));
  } catch {
    // read-only node_modules: validate on every run
  }
}

export type EndpointLatencyDef = NonNullable<Catalog['endpointLatency']>;

/** The budget of one endpoint: its catalog row, else the catalog's default (`listed: false`). */
export function endpointBudget(latency: EndpointLatencyDef, component: string, endpoint: string): { degradedMs: number; failMs: number; listed: boolean } {
  const row = latency.endpoints.find((e) => e.component === component && e.endpoint === endpoint);
  return row ? { degradedMs: row.degradedMs, failMs: row.failMs, listed: true } : { ...latency.default, listed: false };
}

// ---------------------------------------------------------------------------------------
// Mapping tests to tiers and business functions

export interface TestIdentity {
  project: string;
  /** Relative to the repository root, forward slashes. */
  file: string;
  fullName: string;
  /** The check id the test declares, when it declares one. */
  checkId?: string;
  tags: readonly string[];
}

/** The tier of a test: its tier tag (the first, when a test wrongly carries several). */
export function tierOf(catalog: Catalog, tags: readonly string[]): TierDef | undefined {
  for (const tier of catalog.tiers) if (tags.includes(tier.id)) return tier;
  return undefined;
}

/** Business functions of a test: the first matching rule decides; [] when none matches. */
export function functionsOf(catalog: Catalog, test: TestIdentity): string[] {
  for (const rule of catalog.functionRules) if (ruleMatches(rule.match, test)) return [...rule.functions];
  return [];
}

export function ruleMatches(match: Catalog['functionRules'][number]['match'], test: TestIdentity): boolean {
  if (match.checks !== undefined && (test.checkId === undefined || !match.checks.includes(test.checkId))) return false;
  if (match.project !== undefined && match.project !== test.project) return false;
  if (match.file !== undefined && !globToRegExp(match.file).test(test.file)) return false;
  if (match.tags !== undefined && !match.tags.every((tag) => test.tags.includes(tag))) return false;
  if (match.anyTags !== undefined && !match.anyTags.some((tag) => test.tags.includes(tag))) return false;
  if (match.title !== undefined && !new RegExp(match.title, 'i').test(test.fullName)) return false;
  return true;
}

/** `*` matches within one path segment, `**` across segments, `?` one character. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i += 1) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      out += '.*';
      i += 1;
      if (glob[i + 1] === '/') i += 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

export interface FailureClass {
  component?: string;
  layer?: string;
  code?: string | number;
  message?: string;
  harnessError?: boolean;
}

/** Recommended next steps for one failure: the first matching row of the catalog's table. */
export function nextStepsFor(catalog: Catalog, failure: FailureClass): string[] {
  for (const rule of catalog.nextSteps) {
    const m = rule.match;
    if (m.harnessError !== undefined && Boolean(failure.harnessError) !== m.harnessError) continue;
    if (m.component !== undefined && m.component !== failure.component) continue;
    if (m.layer !== undefined && !new RegExp(m.layer, 'i').test(failure.layer ?? '')) continue;
    if (m.code !== undefined && !new RegExp(m.code, 'i').test(failure.code === undefined ? '' : String(failure.code))) continue;
    if (m.message !== undefined && !new RegExp(m.message, 'i').test(failure.message ?? '')) continue;
    return [...rule.steps];
  }
  return [];
}
