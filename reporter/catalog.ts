/**
 * The business catalog: tiers (with their MRR labels and allowed failure rates), business
 * functions, the declarative rules mapping tests to functions, KPIs (target, degraded band,
 * minimum samples) and the next-steps table. One user-editable JSON file,
 * `catalog/stagecheck.catalog.json` (or the file named by STAGECHECK_CATALOG), documented in
 * `catalog/README.md`.
 *
 * A revenue figure is a label of its tier, shown as the catalog says it; nothing here
 * predicts a loss.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const DEFAULT_CATALOG_PATH = fileURLToPath(new URL('../catalog/stagecheck.catalog.json', import.meta.url));

const id = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'ids are lower-case letters, digits and dashes');

const tierSchema = z.strictObject({
  id,
  name: z.string().min(1),
  /** What the tier protects, as a label (e.g. "$120K+ MRR"); never used in arithmetic. */
  protects: z.string(),
  /** Failure rate (failed / executed) the tier tolerates, strictly below; 0 = no failure tolerated. */
  allowedFailureRate: z.number().min(0).max(1),
});

const functionSchema = z.strictObject({ id, name: z.string().min(1), description: z.string().optional() });

const matchSchema = z.strictObject({
  /** Any of these check ids (tests/check-ids.ts), the preferred way to name tests: ids survive a reworded title. */
  checks: z.array(z.string().min(1)).min(1).optional(),
  /** Glob on the test file relative to the repository (`*` within a folder, `**` across folders). */
  file: z.string().optional(),
  /** Vitest project name (phase1, phase2). */
  project: z.string().optional(),
  /** Every one of these tags. */
  tags: z.array(z.string()).optional(),
  /** At least one of these tags. */
  anyTags: z.array(z.string()).optional(),
  /** Case-insensitive regular expression on the test's full name (still read; `checks` is preferred). */
  title: z.string().optional(),
});

const ruleSchema = z.strictObject({ match: matchSchema, functions: z.array(id).min(1) });

const latencyKpiSchema = z.strictObject({
  id,
  name: z.string().min(1),
  kind: z.literal('latency'),
  /** Which percentile of the samples is compared (nearest rank, helpers/core/stats.ts). */
  percentile: z.number().min(0).max(100),
  /** PASS below this. */
  targetMs: z.number().positive(),
  /** DEGRADED from targetMs up to (excluding) failMs; FAIL from failMs. Without it, FAIL from targetMs. */
  failMs: z.number().positive().optional(),
  minSamples: z.number().int().min(1),
  functions: z.array(id).default([]),
  /**
   * Another latency KPI whose `percentile`, `targetMs` and `failMs` this one uses (those not
   * given here): one threshold for one quantity measured two ways, e.g. the database response
   * time probed directly and as the backend reports it.
   */
  thresholdsOf: id.optional(),
  /** The component a test is blamed on when its own samples of this KPI are past `failMs`. */
  component: z.string().optional(),
});

const rateKpiSchema = z.strictObject({
  id,
  name: z.string().min(1),
  kind: z.literal('rate'),
  /** PASS at or above this success ratio. */
  target: z.number().min(0).max(1),
  /** DEGRADED from this ratio up to the target; without it, anything below the target is FAIL. */
  degradedFrom: z.number().min(0).max(1).optional(),
  minSamples: z.number().int().min(1),
  functions: z.array(id).default([]),
});

const testSuccessKpiSchema = z.strictObject({
  id,
  name: z.string().min(1),
  kind: z.literal('test-success'),
  /** The tier whose tests are the samples (one sample per executed test). */
  tier: id,
  target: z.number().min(0).max(1),
  /** "all": every test of the tier that was meant to run (not filtered, not "not configured") must have run. */
  minSamples: z.union([z.number().int().min(1), z.literal('all')]),
  functions: z.array(id).default([]),
});

const kpiSchema = z.discriminatedUnion('kind', [latencyKpiSchema, rateKpiSchema, testSuccessKpiSchema]);

const endpointBudgetSchema = z.strictObject({
  /** Which service answers it: `backend` (STAGING_BASE_URL) or `auth` (STAGING_AUTH_URL). */
  component: z.enum(['backend', 'auth']),
  /** Method and path template, ids as `:id`: `GET /api/threads/:id/messages`. */
  endpoint: z.string().regex(/^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) \/\S*$/, 'an endpoint is "METHOD /path/:id"'),
  /** DEGRADED from this percentile value up; FAIL from failMs. */
  degradedMs: z.number().positive(),
  failMs: z.number().positive(),
});

/**
 * Latency budget of every HTTP endpoint the suite calls, judged on the requests of the run
 * (each component's cold start excluded: it is judged on its own against BUDGET_COLD_START_MS).
 */
const endpointLatencySchema = z.strictObject({
  $comment: z.string().optional(),
  /** Which percentile of an endpoint's samples is compared (nearest rank). */
  percentile: z.number().min(0).max(100),
  /** Used for an endpoint the suite calls that `endpoints` does not list (named in a warning). */
  default: z.strictObject({ degradedMs: z.number().positive(), failMs: z.number().positive() }),
  /** Business functions an endpoint's or a cold start's verdict counts for. */
  functions: z.array(id).default([]),
  endpoints: z.array(endpointBudgetSchema),
});

const nextStepSchema = z.strictObject({
  match: z.strictObject({
    component: z.string().optional(),
    /** Regular expressions, matched case-insensitively. */
    layer: z.string().optional(),
    code: z.string().optional(),
    message: z.string().optional(),
    harnessError: z.boolean().optional(),
  }),
  steps: z.array(z.string().min(1)).min(1),
});

export const catalogSchema = z
  .strictObject({
    $comment: z.string().optional(),
    version: z.literal(1),
    tiers: z.array(tierSchema).min(1),
    functions: z.array(functionSchema).min(1),
    functionRules: z.array(ruleSchema),
    kpis: z.array(kpiSchema),
    nextSteps: z.array(nextStepSchema).default([]),
    endpointLatency: endpointLatencySchema.optional(),
  })
  .superRefine((catalog, ctx) => {
    const unique = (values: string[], what: string) => {
      const seen = new Set<string>();
      for (const value of values) {
        if (seen.has(value)) ctx.addIssue({ code: 'custom', message: `${what} "${value}" is declared twice` });
        seen.add(value);
      }
    };
    unique(catalog.tiers.map((t) => t.id), 'tier');
    unique(catalog.functions.map((f) => f.id), 'business function');
    unique(catalog.kpis.map((k) => k.id), 'KPI');
    const functions = new Set(catalog.functions.map((f) => f.id));
    const tiers = new Set(catalog.tiers.map((t) => t.id));
    catalog.functionRules.forEach((rule, index) => {
      for (const fn of rule.functions) {
        if (!functions.has(fn)) ctx.addIssue({ code: 'custom', message: `functionRules[${index}] names unknown business function "${fn}"` });
      }
      for (const pattern of [rule.match.title]) if (pattern !== undefined) checkRegex(pattern, `functionRules[${index}].match.title`, ctx);
    });
    for (const kpi of catalog.kpis) {
      for (const fn of kpi.functions) {
        if (!functions.has(fn)) ctx.addIssue({ code: 'custom', message: `KPI "${kpi.id}" names unknown business function "${fn}"` });
      }
      if (kpi.kind === 'latency' && kpi.failMs !== undefined && kpi.failMs <= kpi.targetMs) {
        ctx.addIssue({ code: 'custom', message: `KPI "${kpi.id}": failMs (${kpi.failMs}) must be above targetMs (${kpi.targetMs})` });
      }
      if (kpi.kind === 'rate' && kpi.degradedFrom !== undefined && kpi.degradedFrom >= kpi.target) {
        ctx.addIssue({ code: 'custom', message: `KPI "${kpi.id}": degradedFrom (${kpi.degradedFrom}) must be below target (${kpi.target})` });
      }
      if (kpi.kind === 'latency' && kpi.thresholdsOf !== undefined && catalog.kpis.find((k) => k.id === kpi.thresholdsOf)?.kind !== 'latency') {
        ctx.addIssue({ code: 'custom', message: `KPI "${kpi.id}": thresholdsOf names "${kpi.thresholdsOf}", which is not a latency KPI of this catalog` });
      }
      if (kpi.kind === 'test-success' && !tiers.has(kpi.tier)) {
        ctx.addIssue({ code: 'custom', message: `KPI "${kpi.id}" names unknown tier "${kpi.tier}"` });
      }
    }
    const latency = catalog.endpointLatency;
    if (latency) {
      unique(latency.endpoints.map((e) => `${e.component} ${e.endpoint}`), 'endpoint budget');
      for (const fn of latency.functions) {
        if (!functions.has(fn)) ctx.addIssue({ code: 'custom', message: `endpointLatency names unknown business function "${fn}"` });
      }
      for (const budget of [...latency.endpoints, { component: 'default', endpoint: '', ...latency.default }]) {
        if (budget.failMs <= budget.degradedMs) {
          ctx.addIssue({ code: 'custom', message: `endpointLatency ${budget.component} ${budget.endpoint}`.trimEnd() + `: failMs (${budget.failMs}) must be above degradedMs (${budget.degradedMs})` });
        }
      }
    }
    catalog.nextSteps.forEach((step, index) => {
      for (const key of ['layer', 'code', 'message'] as const) {
        const pattern = step.match[key];
        if (pattern !== undefined) checkRegex(pattern, `nextSteps[${index}].match.${key}`, ctx);
      }
    });
  });

function checkRegex(pattern: string, where: string, ctx: z.RefinementCtx): void {
  try {
    new RegExp(pattern, 'i');
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `${where} is not a valid regular expression: ${(error as Error).message}` });
  }
}

export type Catalog = z.infer<typeof catalogSchema>;
export type TierDef = Catalog['tiers'][number];
export type FunctionDef = Catalog['functions'][number];
export type KpiDef = Catalog['kpis'][number];
export type NextStepRule = Catalog['nextSteps'][number];

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
export function loadCatalog(path = process.env.STAGECHECK_CATALOG || DEFAULT_CATALOG_PATH): LoadedCatalog {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    return { catalog: FALLBACK_CATALOG, path, warnings: [`catalog ${path} could not be read (${(error as Error).message}); the built-in defaults were used`] };
  }
  return parseCatalog(raw, path);
}

export function parseCatalog(raw: unknown, path = '(inline)'): LoadedCatalog {
  const parsed = catalogSchema.safeParse(withInheritedThresholds(raw));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
    return { catalog: FALLBACK_CATALOG, path, warnings: [`catalog ${path} is invalid, the built-in defaults were used: ${problems.join('; ')}`] };
  }
  return { catalog: parsed.data, path, warnings: [] };
}

/**
 * Fills a latency KPI's missing `percentile`, `targetMs` and `failMs` from the KPI its
 * `thresholdsOf` names, before validation (one level: the named KPI's own values).
 */
function withInheritedThresholds(raw: unknown): unknown {
  const kpis = (raw as { kpis?: unknown } | null)?.kpis;
  if (!Array.isArray(kpis)) return raw;
  const byId = new Map<unknown, Record<string, unknown>>();
  for (const kpi of kpis) if (kpi !== null && typeof kpi === 'object') byId.set((kpi as { id?: unknown }).id, kpi as Record<string, unknown>);
  const resolved = kpis.map((kpi: unknown) => {
    if (kpi === null || typeof kpi !== 'object') return kpi;
    const k = kpi as Record<string, unknown>;
    const from = k.thresholdsOf === undefined ? undefined : byId.get(k.thresholdsOf);
    if (!from || from.kind !== 'latency') return k;
    const out = { ...k };
    for (const key of ['percentile', 'targetMs', 'failMs']) if (out[key] === undefined && from[key] !== undefined) out[key] = from[key];
    return out;
  });
  return { ...(raw as object), kpis: resolved };
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
