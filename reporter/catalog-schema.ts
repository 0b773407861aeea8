/**
 * The catalog file's schema (reporter/catalog.ts reads the file): zod, which costs about 0.1 s of
 * CPU to load, so it is imported only to validate a catalog text the validated-catalog cache has
 * not seen (a new or edited catalog, or this schema changed). Every problem names its field.
 */
import { z } from 'zod';

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

/** Validates a catalog as read from its file: the catalog with its defaults, or every problem, each naming its field. */
export function validateCatalog(raw: unknown): { catalog: Catalog; problems?: undefined } | { catalog?: undefined; problems: string[] } {
  const parsed = catalogSchema.safeParse(withInheritedThresholds(raw));
  if (parsed.success) return { catalog: parsed.data };
  return { problems: parsed.error.issues.map((issue) => `${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`) };
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
