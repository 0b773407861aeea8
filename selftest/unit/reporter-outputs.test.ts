/**
 * The reporter's parts around the verdict engine: the shipped catalog and its test-to-function
 * mapping, catalog validation, the gate file and its decision during a run, the history store, the JSON schema file, the
 * renderers, and how `npm run e2e` splits its own options from Vitest's.
 */
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CATALOG_PATH, FALLBACK_CATALOG, functionsOf, globToRegExp, loadCatalog, parseCatalog, VALIDATED_CATALOG_CACHE } from '../../reporter/catalog.ts';
import type { TestModule } from 'vitest/node';
import { awaitDecision, blockNote, Phase1Gate, readGate, sortBlocking, writeGate, type GateFile } from '../../reporter/gate.ts';
import { appendHistory, indexHistory, readHistory, targetKey, type HistoryEntry } from '../../reporter/history.ts';
import { renderHtml } from '../../reporter/render-html.ts';
import { renderMarkdown, renderTerminal } from '../../reporter/render-text.ts';
import { JSON_SCHEMA_PATH, jsonSchema } from '../../reporter/schema.ts';
import { computeReport } from '../../reporter/verdicts.ts';
import { parseArgs } from '../../scripts/e2e.ts';
import { CHECK_IDS } from '../../tests/check-ids.ts';

/** The shipped catalog, read once (loadCatalog is async: it loads zod only for a catalog it has not validated before). */
const SHIPPED_CATALOG = await loadCatalog();

const dir = mkdtempSync(join(tmpdir(), 'stagecheck-reporter-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the shipped catalog', () => {
  const { catalog, warnings } = SHIPPED_CATALOG;

  it('is valid and carries the brief\'s tiers and KPIs', () => {
    expect(warnings).toEqual([]);
    expect(catalog.tiers.map((t) => [t.id, t.protects, t.allowedFailureRate])).toEqual([
      ['p1', '$120K+ MRR', 0], ['p2', '$80K MRR', 0.05], ['p3', '$50K MRR', 0.1], ['p4', '$30K MRR', 0.1], ['p5', '$10K MRR', 0.2], ['p6', '$5K MRR', 0.2],
    ]);
    expect(catalog.kpis.map((k) => [k.id, k.minSamples])).toEqual([
      ['database-response-p95', 10], ['database-response-backend', 1], ['redis-connectivity', 10], ['ws-connection-success', 20], ['agent-execution-success', 10], ['golden-path-completion', 5], ['p1-test-success', 'all'],
    ]);
  });

  it('maps the suite\'s files and tags to business functions as documented in catalog/README.md', () => {
    const map = (project: string, file: string, tags: string[], checkId?: string) => functionsOf(catalog, { project, file, tags, fullName: 'x', ...(checkId ? { checkId } : {}) });
    expect(map('phase2', 'tests/phase2/golden-path.test.ts', ['p1', 'agent', 'websocket', 'backend', 'postgres'])).toEqual(['chat']);
    expect(map('phase2', 'tests/phase2/kpi-samples.test.ts', ['p2', 'agent', 'websocket'], CHECK_IDS.kpiGoldenPath)).toEqual(['chat']);
    expect(map('phase2', 'tests/phase2/kpi-samples.test.ts', ['p2', 'agent', 'websocket'], CHECK_IDS.kpiAgentRuns)).toEqual(['agent-orchestration', 'real-time']);
    expect(map('phase2', 'tests/phase2/realtime.test.ts', ['p4', 'websocket', 'backend'])).toEqual(['real-time']);
    expect(map('phase2', 'tests/phase2/auth-flows.test.ts', ['p1', 'auth', 'backend', 'websocket'])).toEqual(['user-auth']);
    expect(map('phase1', 'tests/phase1/phase1.test.ts', ['p1', 'redis'], CHECK_IDS.redisProbe)).toEqual(['real-time', 'user-auth']);
    expect(map('phase1', 'tests/phase1/phase1.test.ts', ['p1', 'agent', 'websocket'], CHECK_IDS.agentRun)).toEqual(['chat', 'agent-orchestration']);
    expect(map('phase1', 'tests/phase1/phase1.test.ts', ['p2', 'network'])).toEqual(['api-responsiveness']);
  });
});

describe('catalog validation', () => {
  it('falls back to the built-in defaults with a warning naming each problem', async () => {
    const broken = await parseCatalog({ version: 1, tiers: [{ id: 'p1', name: 'P1', protects: 'x', allowedFailureRate: 2 }], functions: [{ id: 'chat', name: 'Chat' }], functionRules: [{ match: {}, functions: ['nope'] }], kpis: [] });
    expect(broken.catalog.tiers).toHaveLength(6);
    expect(broken.warnings[0]).toMatch(/tiers\.0\.allowedFailureRate/);
    const unknownFn = await parseCatalog({ version: 1, tiers: [{ id: 'p1', name: 'P1', protects: 'x', allowedFailureRate: 0 }], functions: [{ id: 'chat', name: 'Chat' }], functionRules: [{ match: {}, functions: ['nope'] }], kpis: [] });
    expect(unknownFn.warnings[0]).toMatch(/unknown business function "nope"/);
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ not json');
    expect((await loadCatalog(file)).warnings[0]).toMatch(/could not be read/);
  });

  it('reads a catalog validated before back from the cache, and validates an edited one again', async () => {
    const file = join(dir, 'edited.catalog.json');
    // A text of its own (its own cache entry), valid like the shipped one.
    const text = readFileSync(DEFAULT_CATALOG_PATH, 'utf8').replace('"$comment": "', `"$comment": "cache test ${process.pid} ${Date.now()}. `);
    writeFileSync(file, text);
    const fresh = await parseCatalog(JSON.parse(text), file);
    expect(fresh.warnings).toEqual([]);
    const before = new Set(existsSync(VALIDATED_CATALOG_CACHE) ? readdirSync(VALIDATED_CATALOG_CACHE) : []);
    expect(await loadCatalog(file)).toEqual(fresh);
    const added = readdirSync(VALIDATED_CATALOG_CACHE).filter((name) => !before.has(name));
    expect(added, 'one validated catalog kept').toHaveLength(1);
    // Marked in the cache: the second read returns the mark, so it read the cache, not the file.
    const entry = join(VALIDATED_CATALOG_CACHE, added[0]!);
    writeFileSync(entry, JSON.stringify({ ...fresh.catalog, $comment: 'from the cache' }));
    expect((await loadCatalog(file)).catalog.$comment, 'the second read').toBe('from the cache');
    rmSync(entry);
    writeFileSync(file, text.replace('"allowedFailureRate": 0.05', '"allowedFailureRate": 5'));
    const edited = await loadCatalog(file);
    expect(edited.warnings.join('\n')).toMatch(/tiers\.1\.allowedFailureRate/);
    expect(edited.catalog.tiers).toEqual(FALLBACK_CATALOG.tiers);
  });

  it('matches file globs within and across folders', () => {
    expect(globToRegExp('tests/*/golden-path.test.ts').test('tests/phase2/golden-path.test.ts')).toBe(true);
    expect(globToRegExp('tests/*.ts').test('tests/phase2/a.ts')).toBe(false);
    expect(globToRegExp('**/a.test.ts').test('tests/phase2/a.test.ts')).toBe(true);
  });
});

describe('the phase-1 gate file', () => {
  const gate = (status: GateFile['status'], blocking: GateFile['blocking'] = []): GateFile => ({ schema: 'stagecheck.gate', v: 1, status, runId: 'r', decidedAt: null, tests: 3, failed: blocking.length, blocking });

  it('names the most fundamental phase-1 failure in the skip note, and how many more failed', () => {
    const blocking = sortBlocking([
      { test: 'POST /auth/e2e/test-auth > issues a token', component: 'auth', layer: 'http-status', code: 503 },
      { test: 'Redis direct probe > answers PING', component: 'redis', layer: 'budget', code: 'COMMAND_TIMEOUT' },
    ]);
    expect(blockNote({ blocking, failed: 2 })).toBe('BLOCKED by phase 1: Redis direct probe > answers PING (redis/budget COMMAND_TIMEOUT) and 1 more');
  });

  it('is read back whole, and a pending gate is awaited until decided or the bound', async () => {
    const file = join(dir, 'gate.json');
    writeGate(file, gate('pending'));
    // awaitDecision reads the file once before it first waits, so it has seen 'pending' when the
    // decision is written right after the call: it must poll to find it.
    const awaiting = awaitDecision(file, 30_000, 10);
    writeGate(file, gate('failed', [{ test: 't', component: 'redis', layer: 'tcp' }]));
    const decided = await awaiting;
    expect(decided?.status).toBe('failed');
    writeGate(file, gate('pending'));
    expect((await awaitDecision(file, 60, 10))?.status).toBe('pending');
    writeFileSync(file, '{"schema":"other"}');
    expect(readGate(file)).toBeUndefined();
    expect(readGate(join(dir, 'missing.json'))).toBeUndefined();
  });
});

describe('the phase-1 gate during a run', () => {
  type FakeTest = { fullName: string; state: 'passed' | 'failed'; failure?: Record<string, unknown> };
  const fakeModule = (project: string, id: string, tests: FakeTest[] = [], errors: string[] = []) => ({
    moduleId: `/p/tests/${id}.test.ts`,
    project: { name: project },
    relativeModuleId: `tests/${id}.test.ts`,
    errors: () => errors.map((message) => ({ message })),
    children: { allTests: () => tests.map((t) => ({ fullName: t.fullName, result: () => ({ state: t.state }), meta: () => ({ stagecheck: t.failure ? { failure: t.failure } : undefined }) })) },
  }) as unknown as TestModule;

  it('stays pending until every phase-1 module the run planned has ended, then blocks on the most fundamental failure', () => {
    const file = join(dir, 'run-gate.json');
    const gate = new Phase1Gate(file, { runId: () => 'run-1', redact: (text) => text.replace('s3cret', '[redacted]') });
    gate.start(['auth', 'stores', 'ws'].map((id) => `/p/tests/${id}.test.ts`));
    expect(readGate(file)).toMatchObject({ status: 'pending', runId: 'run-1', decidedAt: null });
    const auth = fakeModule('phase1', 'auth', [
      { fullName: 'POST /auth/e2e/test-auth > issues a token for s3cret', state: 'failed', failure: { component: 'auth', layer: 'http-status', code: 503 } },
      { fullName: 'GET /health > answers', state: 'passed' },
    ]);
    const stores = fakeModule('phase1', 'stores', [{ fullName: 'Redis direct probe > answers PING', state: 'failed', failure: { component: 'redis', layer: 'tcp', code: 'ECONNREFUSED' } }]);
    const harness = fakeModule('phase1', 'ws', [{ fullName: 'WebSocket handshake > accepts', state: 'failed', failure: { component: 'websocket', layer: 'protocol', harnessError: true } }], ['boom\nstack']);
    gate.ended(auth);
    // Phase 2's files end beside phase 1's: they decide nothing.
    gate.ended(fakeModule('phase2', 'golden-path'));
    gate.ended(stores);
    expect(gate.decided).toBe(false);
    expect(readGate(file)?.status).toBe('pending');
    gate.ended(harness);
    expect(gate.decided).toBe(true);
    const decided = readGate(file)!;
    expect(decided).toMatchObject({ status: 'failed', runId: 'run-1', tests: 4, failed: 4 });
    expect(decided.blocking).toEqual([
      { test: 'Redis direct probe > answers PING', component: 'redis', layer: 'tcp', code: 'ECONNREFUSED' },
      { test: 'POST /auth/e2e/test-auth > issues a token for [redacted]', component: 'auth', layer: 'http-status', code: 503 },
      { test: 'WebSocket handshake > accepts', component: 'websocket', layer: 'harness' },
      { test: 'tests/ws.test.ts (failed outside any test: boom)', component: 'harness', layer: 'collection' },
    ]);
    gate.ended(fakeModule('phase1', 'late', [{ fullName: 'late', state: 'failed' }]));
    expect(readGate(file)!.failed).toBe(4); // decided once
  });

  it('is passed when every phase-1 test passed, and decided at the end of a run whose phase-1 module never ended: not-run when none ran', () => {
    const file = join(dir, 'run-gate-2.json');
    const gate = new Phase1Gate(file, { runId: () => null, redact: (text) => text });
    gate.start(['/p/tests/health.test.ts']);
    gate.ended(fakeModule('phase1', 'health', [{ fullName: 'GET /health > answers', state: 'passed' }]));
    expect(readGate(file)).toMatchObject({ status: 'passed', tests: 1, failed: 0, blocking: [] });
    const empty = new Phase1Gate(join(dir, 'run-gate-3.json'), { runId: () => null, redact: (text) => text });
    empty.start(['/p/tests/cancelled.test.ts']);
    expect(readGate(empty.file)?.status).toBe('pending');
    empty.decide();
    expect(readGate(empty.file)?.status).toBe('not-run');
  });
});

describe('the history store', () => {
  it('appends one line per run and counts only runs of the same target, skipping malformed lines', () => {
    const file = join(dir, 'history.jsonl');
    const entry = (at: string, target: string, verdict: 'PASS' | 'FAIL'): HistoryEntry => ({ schema: 'stagecheck.history', v: 1, runId: at, at, target, version: 'v', verdict, tests: { k: verdict }, kpis: {} });
    appendHistory(file, entry('2026-11-01T00:00:00Z', 'local', 'FAIL'));
    appendFileSync(file, 'garbage\n');
    appendHistory(file, entry('2026-11-02T00:00:00Z', 'api-staging.example.com', 'FAIL'));
    appendHistory(file, entry('2026-11-03T00:00:00Z', 'local', 'PASS'));
    const warnings: string[] = [];
    const local = readHistory(file, 'local', warnings);
    expect(local.map((e) => e.at)).toEqual(['2026-11-01T00:00:00Z', '2026-11-03T00:00:00Z']);
    expect(warnings).toEqual([`history ${file}: 1 malformed line(s) skipped`]);
    expect(indexHistory(file, local).test('k').text).toBe('failed 1 of 2 earlier runs since 2026-11-01');
    expect(indexHistory(file, local).test('other').text).toBe('no earlier run measured it');
    expect(targetKey('https://api-staging.example.com/x', false)).toBe('api-staging.example.com');
    expect(targetKey('http://127.0.0.1:4000', true)).toBe('local');
  });
});

describe('the JSON schema', () => {
  it('is committed in step with the zod definition (regenerate: npx tsx reporter/schema.ts --write)', () => {
    expect(JSON.parse(readFileSync(JSON_SCHEMA_PATH, 'utf8'))).toEqual(JSON.parse(JSON.stringify(jsonSchema())));
  });
});

describe('renderers', () => {
  const { catalog } = SHIPPED_CATALOG;
  const report = computeReport({
    catalog,
    catalogPath: 'catalog/stagecheck.catalog.json',
    tests: [
      { id: 'a', project: 'phase1', file: 'tests/phase1/phase1.test.ts', name: 'n', fullName: 'Redis <script>alert(1)</script> probe', tags: ['p1', 'redis'], state: 'failed', errors: [{ name: 'CheckError', message: 'timeout' }],
        meta: { schema: 1, components: ['redis'], measurements: [{ name: 'redis round trip', unit: 'ms', samples: [1, 2, 3] }], kpis: [{ kpi: 'redis-connectivity', samples: Array(10).fill(0) }], timelines: [{ runId: 'r1', events: [{ type: 'agent_started', tMs: 5 }, { type: 'agent_completed', tMs: 90 }] }], retries: [], ledgers: [], failure: { component: 'redis', layer: 'tcp', code: 'CONNECT_TIMEOUT', message: 'connect timed out', name: 'CheckError' } } },
      { id: 'b', project: 'phase2', file: 'tests/phase2/golden-path.test.ts', name: 'g', fullName: 'golden path > answers', tags: ['p1', 'agent', 'websocket'], state: 'skipped', note: 'BLOCKED by phase 1: Redis probe (redis/tcp CONNECT_TIMEOUT)', errors: [] },
    ],
  });

  it('renders a self-contained HTML page with charts, escaped text and the failure evidence', () => {
    const html = renderHtml(report, catalog.kpis);
    expect(html).not.toMatch(/<(?:script|link|img|iframe)[^>]+(?:src|href)=/i); // nothing fetched
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('Redis &lt;script&gt;alert(1)&lt;/script&gt; probe');
    expect(html.match(/<svg/g)?.length).toBeGreaterThan(8);
    expect(html).toContain('CONNECT_TIMEOUT');
    expect(html).toContain('VPC connector');
    expect(html).toContain('Blocked by phase 1');
    expect(html).toContain('run r1');
  });

  it('renders Markdown and a terminal summary that state the verdict, tiers and exit code', () => {
    const markdown = renderMarkdown(report);
    expect(markdown).toMatch(/^# ❌ stagecheck: FAIL/);
    expect(markdown).toContain('| P1 critical | $120K+ MRR | ❌ FAIL |');
    expect(markdown).toContain('## Blocked by phase 1 (1)');
    const terminal = renderTerminal(report);
    expect(terminal).toContain('stagecheck ▶ FAIL');
    expect(terminal).toContain('exit      1 (product failure)');
  });
});

describe('npm run e2e arguments', () => {
  it('runs both phases with the reporter and JUnit, passing the rest to Vitest', () => {
    const args = parseArgs(['--allow-production', '--tags-filter', 'p1']);
    expect(args.env).toEqual({ STAGECHECK_ALLOW_PRODUCTION: 'true' });
    expect(args.vitestArgs.slice(0, 5)).toEqual(['run', '--project', 'phase1', '--project', 'phase2']);
    expect(args.vitestArgs).toContain('--reporter=junit');
    expect(args.vitestArgs.slice(-2)).toEqual(['--tags-filter', 'p1']);
    expect(args.vitestArgs.some((a) => a === '--reporter=blob')).toBe(false);
  });

  it('adds a blob report when sharded, and leaves projects alone when merging', () => {
    const shard = parseArgs(['--project', 'phase2', '--shard', '2/3', '--phase1-gate', 'g.json']);
    expect(shard.vitestArgs).toContain('--reporter=blob');
    expect(shard.vitestArgs.find((a) => a.startsWith('--outputFile.blob='))).toMatch(/blob-phase2-2-3\.json$/);
    expect(shard.env.STAGECHECK_PHASE1_GATE).toMatch(/g\.json$/);
    const merge = parseArgs(['--merge-reports', '.vitest-reports']);
    expect(merge.merge).toBe(true);
    expect(merge.vitestArgs).not.toContain('--project');
    expect(merge.vitestArgs).not.toContain('--reporter=blob');
  });

  it('names a misspelt e2e option instead of passing it to Vitest, and passes Vitest\'s own options on', () => {
    expect(() => parseArgs(['--allow-prod'])).toThrow(/unknown option --allow-prod: did you mean --allow-production\?/);
    expect(() => parseArgs(['--report-dirs', 'x'])).toThrow(/did you mean --report-dir\?/);
    expect(() => parseArgs(['--blobdir=x'])).toThrow(/did you mean --blob-dir\?/);
    const passed = parseArgs(['--bail', '1', '--reporter-x', '--retry=2']);
    expect(passed.vitestArgs).toEqual(expect.arrayContaining(['--bail', '1', '--retry=2']));
  });
});
