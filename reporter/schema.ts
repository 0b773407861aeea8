/**
 * The schema of `reports/business-impact.json`, versioned. The zod definition here is the
 * source; `reporter/business-impact.schema.json` is generated from it (JSON Schema 2020-12,
 * `npx tsx reporter/schema.ts --write`) and a unit test keeps the two in step.
 *
 * Versioning: `schemaVersion` is bumped on any change that removes or renames a field or
 * changes a field's meaning; adding an optional field keeps the version.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { REPORT_SCHEMA_ID, REPORT_SCHEMA_VERSION } from './report-schema-id.ts';

export { REPORT_SCHEMA_ID, REPORT_SCHEMA_VERSION };
export const JSON_SCHEMA_PATH = fileURLToPath(new URL('./business-impact.schema.json', import.meta.url));

export const VERDICTS = ['PASS', 'FAIL', 'DEGRADED', 'BLOCKED', 'INCONCLUSIVE', 'NOT RUN'] as const;
export const verdictSchema = z.enum(VERDICTS);
export type Verdict = z.infer<typeof verdictSchema>;

const countsSchema = z.object({
  PASS: z.number().int(),
  FAIL: z.number().int(),
  DEGRADED: z.number().int(),
  BLOCKED: z.number().int(),
  INCONCLUSIVE: z.number().int(),
  'NOT RUN': z.number().int(),
  total: z.number().int().describe('Tests counted here, whatever their verdict.'),
  executed: z.number().int().describe('PASS + FAIL + DEGRADED: tests that ran to a product verdict.'),
});
export type Counts = z.infer<typeof countsSchema>;

const rateSchema = z.object({
  successes: z.number().int(),
  total: z.number().int(),
  ratio: z.number().nullable(),
  text: z.string().describe('e.g. "19/20 = 95.0%" (rounded down), "0/0 = n/a".'),
});

const summarySchema = z.object({
  count: z.number().int(),
  min: z.number().nullable(),
  p50: z.number().nullable(),
  p95: z.number().nullable(),
  max: z.number().nullable(),
  mean: z.number().nullable(),
});

const historySchema = z
  .object({
    runs: z.number().int().describe('Earlier runs in the history store in which this was measured (executed, not blocked or filtered).'),
    failures: z.number().int().describe('Of those, the runs in which it failed.'),
    since: z.string().nullable().describe('Start time of the earliest of those runs (ISO 8601).'),
    text: z.string().describe('e.g. "failed 3 of 40 runs since 2026-11-01".'),
  })
  .describe('Observed over stored past runs only: never an extrapolation.');

const evidenceSchema = z.object({
  component: z.string(),
  layer: z.string(),
  message: z.string().describe('The exact error, secrets removed.'),
  errorName: z.string().optional(),
  endpoint: z.string().optional(),
  code: z.union([z.string(), z.number()]).optional().describe('HTTP status, WebSocket close code or low-level error code.'),
  correlationId: z.string().optional(),
  elapsedMs: z.number().optional(),
  harnessError: z.boolean().optional(),
  lastWsEvent: z.string().optional().describe('The last WebSocket event seen before the failure, when one was captured.'),
  tokenAttribution: z.string().optional().describe('For a 401: whether the token expired during the run or a fresh token was refused, when recorded.'),
  ledgers: z.array(z.object({ budget: z.string(), entries: z.array(z.unknown()) })),
  details: z.record(z.string(), z.unknown()).optional().describe('The rest of the evidence the check attached.'),
  wsDump: z.string().optional(),
  nextSteps: z.array(z.string()),
});
export type EvidenceOut = z.infer<typeof evidenceSchema>;

const measurementSchema = z.object({
  name: z.string(),
  unit: z.enum(['ms', 'bool']),
  samples: z.array(z.number()),
  summary: summarySchema,
  firstAttemptSuccesses: z.number().optional(),
});

const testSchema = z.object({
  id: z.string(),
  key: z.string().describe('Stable identity across runs: project, file and full name.'),
  project: z.string(),
  file: z.string(),
  fullName: z.string(),
  checkId: z.string().optional().describe('The stable check id the test declares (tests/check-ids.ts); absent for a test without one. Items of a test.for family share their id.'),
  tags: z.array(z.string()),
  tier: z.string().nullable(),
  functions: z.array(z.string()),
  verdict: verdictSchema,
  reason: z.string().describe('Why this verdict, in one line.'),
  withinTierAllowance: z.boolean().optional().describe('A FAIL that its tier tolerates (failure rate below the allowed rate).'),
  durationMs: z.number().nullable(),
  startedAt: z.string().nullable(),
  retryCount: z.number().int(),
  flaky: z.boolean(),
  blockedBy: z.string().optional(),
  failure: evidenceSchema.optional(),
  measurements: z.array(measurementSchema),
  kpis: z.array(z.object({ kpi: z.string(), samples: z.array(z.number()), firstAttemptSuccesses: z.number().optional() })),
  timelines: z.array(z.object({ runId: z.string(), events: z.array(z.object({ type: z.string(), tMs: z.number() })) })),
  retries: z.array(z.unknown()),
  history: historySchema.optional(),
  unstable: z.boolean().optional().describe('Both passed and failed across the recent runs of the trend window (trends.unstable).'),
});
export type TestOut = z.infer<typeof testSchema>;

const tierSchema = z.object({
  id: z.string(),
  name: z.string(),
  protects: z.string().describe('Label from the catalog (e.g. "$120K+ MRR"); not a predicted loss.'),
  allowedFailureRate: z.number(),
  verdict: verdictSchema,
  reason: z.string(),
  counts: countsSchema,
  failureRate: rateSchema.describe('FAIL / executed.'),
});

const functionSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  verdict: verdictSchema,
  reason: z.string(),
  counts: countsSchema,
  kpis: z.array(z.string()),
});

const kpiSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['latency', 'rate', 'test-success']),
  verdict: verdictSchema,
  reason: z.string(),
  target: z.string().describe('Human form of the target, e.g. "< 3000 ms" or ">= 95%".'),
  degraded: z.string().nullable(),
  minSamples: z.number().int(),
  samples: z.number().int(),
  value: z.number().nullable().describe('The measured percentile (ms) or ratio (0..1); null when nothing was measured.'),
  rate: rateSchema.optional(),
  firstAttempt: rateSchema.optional().describe('Successes on the first attempt, where samples were retried.'),
  latency: summarySchema.optional(),
  sampleValues: z.array(z.number()).describe('The raw samples, in the order the tests reported them.'),
  sources: z.array(z.string()).describe('Keys of the tests that contributed samples.'),
  functions: z.array(z.string()),
  history: historySchema.optional(),
});
export type KpiOut = z.infer<typeof kpiSchema>;

const endpointSchema = z.object({
  component: z.string().describe('The service that answers it: backend or auth.'),
  endpoint: z.string().describe('Method and path template, e.g. "GET /api/threads/:id/messages".'),
  name: z.string().describe('How reports name it: the endpoint, prefixed with its component unless backend.'),
  verdict: verdictSchema,
  reason: z.string(),
  percentile: z.number(),
  degradedMs: z.number(),
  failMs: z.number(),
  budget: z.enum(['catalog', 'default']).describe('catalog: its own row of endpointLatency; default: the catalog has none, its default was used.'),
  samples: z.number().int().describe('Requests judged: those that did not wait on the component\'s cold start.'),
  excludedColdStart: z.number().int().describe('Requests left out because they started before the component\'s first answer (its cold start).'),
  value: z.number().nullable().describe('The measured percentile in ms; null when nothing was measured.'),
  latency: summarySchema,
});
export type EndpointOut = z.infer<typeof endpointSchema>;

const coldStartSchema = z.object({
  component: z.string(),
  verdict: verdictSchema,
  reason: z.string(),
  ms: z.number().describe('From the run\'s first request to the component until its first answer.'),
  allowanceMs: z.number().describe('The contract\'s cold-start allowance in force (BUDGET_COLD_START_MS).'),
  firstRequest: z.string().describe('Endpoint of the run\'s first request to the component.'),
  firstAnswered: z.string().describe('Endpoint of the component\'s first answer.'),
  startedAt: z.string(),
  excludedRequests: z.number().int().describe('Requests that waited on the cold start, left out of the endpoint latencies.'),
});
export type ColdStartOut = z.infer<typeof coldStartSchema>;

const latencySchema = z
  .object({
    coldStartAllowanceMs: z.number(),
    percentile: z.number(),
    functions: z.array(z.string()).describe('Business functions the endpoint and cold-start verdicts count for.'),
    endpoints: z.array(endpointSchema),
    coldStarts: z.array(coldStartSchema),
    requests: z.number().int().describe('Request timings recorded by the tests.'),
    dropped: z.number().int().describe('Request timings a worker did not keep (over its cap).'),
  })
  .describe('Latency per endpoint (budgets from the catalog\'s endpointLatency) and each component\'s cold start, from the requests of this run.');

const headSchema = z
  .object({
    target: z.enum(['staging', 'local']),
    description: z.string(),
    urls: z.object({ backend: z.string(), auth: z.string(), websocket: z.string() }).nullable(),
    profile: z.string().nullable().describe('The bundled platform\'s profile (default, staging); null for a configured target.'),
    runId: z.string().nullable(),
    auth: z.object({ method: z.enum(['test-auth', 'login', 'mint']), text: z.string() }).describe('How the suite authenticated; never the secret.'),
    stores: z.object({ postgres: z.enum(['configured', 'NOT CONFIGURED']), redis: z.enum(['configured', 'NOT CONFIGURED']) }),
    budgets: z.record(z.string(), z.number()).describe('Budgets in force, in ms, by env variable.'),
    heartbeatS: z.number(),
  })
  .describe('What the run targeted and with what settings (helpers/core/target-head.ts); null when the run recorded none (e.g. nothing ran).');

const versionSchema = z.object({ version: z.string(), firstSeenAt: z.string(), lastSeenAt: z.string(), snapshots: z.number().int() });

const trendPointSchema = z.object({
  runId: z.string().nullable(),
  at: z.string().describe('Start time of the run (ISO 8601).'),
  verdict: verdictSchema.describe('NOT RUN where that run did not measure it.'),
  value: z.number().nullable().describe('KPI: its measured value (ms or ratio 0..1); tier: passed / executed (0..1); null when not measured.'),
});

const trendsSchema = z
  .object({
    window: z.number().int().describe('Runs asked for (STAGECHECK_TREND_RUNS, default 20).'),
    runs: z.array(z.object({ runId: z.string().nullable(), at: z.string(), verdict: verdictSchema })).describe('The runs shown, oldest first, this run last.'),
    kpis: z.array(z.object({ id: z.string(), name: z.string(), kind: z.string(), points: z.array(trendPointSchema) })),
    tiers: z.array(z.object({ id: z.string(), name: z.string(), points: z.array(trendPointSchema.extend({ passed: z.number().int(), executed: z.number().int() })) })),
    uptime: z.object({
      runs: z.number().int().describe('Runs in the history window, this one included (older entries than the store keeps are gone).'),
      since: z.string().nullable().describe('Start of the earliest run in the window that recorded component states.'),
      components: z.array(z.object({
        component: z.string(),
        upRuns: z.number().int(),
        runs: z.number().int().describe('Runs that measured the component (reporter/component-states.ts).'),
        since: z.string().nullable(),
        text: z.string().describe('e.g. "up in 18 of 20 runs since 2026-11-01".'),
      })),
    }),
    unstable: z.array(z.object({
      key: z.string(),
      checkId: z.string().optional(),
      name: z.string(),
      passed: z.number().int(),
      failed: z.number().int(),
      verdicts: z.array(verdictSchema).describe('Its verdict in each run of the window, oldest first (NOT RUN where absent).'),
    })).describe('Tests that both passed and failed across the runs of the window.'),
  })
  .describe('The last runs of this target, from the history store and this run (reporter/trends.ts).');

const testChangeSchema = z.object({
  key: z.string(),
  checkId: z.string().optional(),
  name: z.string(),
  tier: z.string().nullable(),
  matchedBy: z.enum(['check-id', 'key']).describe('How the baseline\'s test was found: by check id where both runs have one, else by the title key.'),
  before: verdictSchema,
  now: verdictSchema,
});

const sinceBaselineSchema = z
  .object({
    baseline: z
      .object({
        runId: z.string().nullable(),
        at: z.string(),
        verdict: verdictSchema,
        source: z.enum(['history', 'file']).describe('history: the previous run of this target in the history; file: --baseline / STAGECHECK_BASELINE.'),
        file: z.string().optional(),
      })
      .nullable()
      .describe('null: no baseline (text says why).'),
    text: z.string().describe('e.g. "since the baseline (run X at 2026-11-28 10:00 UTC)" or "no baseline: …".'),
    newlyFailing: z.array(testChangeSchema).describe('FAIL now, passed (PASS or DEGRADED) in the baseline.'),
    fixed: z.array(testChangeSchema).describe('Passed now, FAIL in the baseline.'),
    kpis: z.array(z.object({
      id: z.string(),
      name: z.string(),
      kind: z.string(),
      before: z.number(),
      now: z.number(),
      change: z.number().describe('now - before.'),
      noise: z.number().describe('How far the KPI moves between runs by itself (reporter/baseline.ts noiseOf).'),
      values: z.number().int().describe('History values the noise was derived from.'),
      worse: z.boolean(),
      text: z.string(),
    })).describe('KPIs that moved by more than their noise.'),
    kpisWithoutNoise: z.array(z.object({ id: z.string(), name: z.string(), values: z.number().int() })).describe('KPIs that changed but whose history holds too few values to know their noise: no move is claimed.'),
    noiseRule: z.string(),
  })
  .describe('What changed since the baseline run (reporter/baseline.ts).');

export const reportSchema = z.object({
  schema: z.literal(REPORT_SCHEMA_ID),
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
  generatedAt: z.string(),
  run: z.object({
    runId: z.string().nullable(),
    mode: z.enum(['run', 'merge', 'shard']).describe('run: one Vitest run; merge: --merge-reports of blobs; shard: one shard (partial).'),
    shard: z.string().nullable(),
    vitestVersion: z.string().nullable(),
    projects: z.array(z.string()),
    startedAt: z.string().nullable(),
    durationMs: z.number().nullable(),
    catalog: z.string(),
  }),
  head: headSchema.nullable().optional(),
  verdict: verdictSchema,
  reason: z.string(),
  exitCode: z.union([z.literal(0), z.literal(1), z.literal(2)]).describe('0 healthy (PASS or DEGRADED), 1 product failure, 2 inconclusive.'),
  counts: countsSchema,
  target: z.object({
    baseUrl: z.string().nullable(),
    versions: z.array(versionSchema),
    before: z.string().nullable().describe('Version seen first in the run.'),
    after: z.string().nullable().describe('Version seen last in the run.'),
    drift: z.boolean(),
    unavailable: z.number().int().describe('Snapshots that got no version (target unreachable or no version field).'),
  }),
  gate: z.object({
    status: z.enum(['passed', 'failed', 'not-run', 'none']),
    source: z.enum(['this-run', 'file', 'none']),
    blocking: z.array(z.object({ test: z.string(), component: z.string(), layer: z.string(), code: z.union([z.string(), z.number()]).optional() })),
  }),
  tiers: z.array(tierSchema),
  functions: z.array(functionSchema),
  kpis: z.array(kpiSchema),
  latency: latencySchema.optional(),
  outages: z
    .array(
      z.object({
        component: z.string(),
        since: z.string().describe('When the failure that raised the suspicion happened.'),
        confirmedAt: z.string().describe('When the confirmation probe agreed.'),
        cause: z.string().describe('Layer and code, e.g. "tcp ECONNREFUSED".'),
        lastGoodAt: z.string().nullable().describe("The run's last good answer from the component before it."),
        backAt: z.string().nullable().describe('When a probe found it answering again (used again from then on); null: down to the end.'),
        testsCutShort: z.number().int().describe('Tests that failed at once, or were cut short, with this cause.'),
      }),
    )
    .optional()
    .describe('Components confirmed down during the run (fail fast: helpers/transport/component-watch.ts), each one cause.'),
  tests: z.array(testSchema),
  warnings: z.array(z.string()),
  history: z.object({ file: z.string().nullable(), runsConsidered: z.number().int(), since: z.string().nullable() }),
  trends: trendsSchema.optional(),
  sinceBaseline: sinceBaselineSchema.optional(),
});
export type BusinessImpactReport = z.infer<typeof reportSchema>;
export type TrendsOut = z.infer<typeof trendsSchema>;
export type TrendPoint = z.infer<typeof trendPointSchema>;
export type SinceBaselineOut = z.infer<typeof sinceBaselineSchema>;
export type TestChangeOut = z.infer<typeof testChangeSchema>;

export function jsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://stagecheck.invalid/schemas/business-impact-v1.json',
    title: `stagecheck business-impact report, schema version ${REPORT_SCHEMA_VERSION}`,
    ...z.toJSONSchema(reportSchema, { target: 'draft-2020-12' }),
  };
}

if (process.argv.includes('--write') && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(JSON_SCHEMA_PATH, `${JSON.stringify(jsonSchema(), null, 2)}\n`);
  console.log(`wrote ${JSON_SCHEMA_PATH}`);
}
