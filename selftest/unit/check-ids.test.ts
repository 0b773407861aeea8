/**
 * The check-id map (tests/check-ids.ts) and the spec files kept in step, read statically: each
 * id well formed and used once, each test of the suite declaring one. The run self-tests
 * (phase1/phase2) check the same from what Vitest reports. Also: catalog rules and history
 * entries name tests by id, and still read the older title forms. And every describe of the
 * suite runs its tests concurrently.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHECK_IDS, DESCRIBES, FAMILY_CHECK_IDS, titlePattern } from '../../tests/check-ids.ts';
import { functionsOf, loadCatalog, parseCatalog, type TestIdentity } from '../../reporter/catalog.ts';
import { indexHistory, type HistoryEntry } from '../../reporter/history.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TESTS = join(ROOT, 'tests');

function specSources(dir = TESTS): { file: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return specSources(path);
    if (!entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts') || path === join(TESTS, 'check-ids.ts')) return [];
    return [{ file: relative(ROOT, path), text: readFileSync(path, 'utf8') }];
  });
}

const count = (text: string, pattern: RegExp): number => text.match(pattern)?.length ?? 0;

describe('check ids', () => {
  const sources = specSources();

  it('are unique and well formed: phase1|phase2, then dotted lower-case words', () => {
    const ids = Object.values(CHECK_IDS);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i), 'ids declared twice').toEqual([]);
    expect(ids.filter((id) => !/^phase[12](\.[a-z0-9]+(-[a-z0-9]+)*)+$/.test(id)), 'malformed ids').toEqual([]);
    expect(ids.length).toBeGreaterThanOrEqual(70);
  });

  it('are each declared by exactly one spec file, once', () => {
    const uses = Object.keys(CHECK_IDS).map((key) => ({ key, n: sources.reduce((sum, s) => sum + count(s.text, new RegExp(`CHECK_IDS\\.${key}\\b`, 'g')), 0) }));
    expect(uses.filter((u) => u.n !== 1).map((u) => `${u.key}: used ${u.n} times`)).toEqual([]);
  });

  it('are declared by every test of the suite, in its options', () => {
    const missing = sources
      .map((s) => ({ file: s.file, tests: count(s.text, /(?<![.\w])test(\.for\([^)]*\))?\(/g), ids: count(s.text, /\{ meta: \{ checkId: /g) }))
      .filter((s) => s.tests !== s.ids)
      .map((s) => `${s.file}: ${s.tests} test(s), ${s.ids} with { meta: { checkId } }`);
    expect(missing).toEqual([]);
  });

  it('mark test.for families, whose items share their id', () => {
    for (const id of FAMILY_CHECK_IDS) {
      const key = Object.entries(CHECK_IDS).find(([, value]) => value === id)![0];
      const file = sources.find((s) => s.text.includes(`CHECK_IDS.${key}`))!;
      expect(file.text, `${id} is a test.for family`).toMatch(new RegExp(`test\\.for\\([^)]*\\)\\([^\\n]*CHECK_IDS\\.${key}\\b`));
    }
  });
});

describe('describe titles that slices select by -t', () => {
  it('are each the title of exactly one describe, written as DESCRIBES.<key>', () => {
    const all = specSources();
    for (const key of Object.keys(DESCRIBES)) {
      expect(all.reduce((sum, s) => sum + count(s.text, new RegExp(`describe\\(DESCRIBES\\.${key},`, 'g')), 0), key).toBe(1);
    }
  });

  it('build an anchored pattern that selects whole describe titles only', () => {
    const pattern = new RegExp(titlePattern('health', 'threadsApi'));
    expect(pattern.test('GET /health answers 200 healthy')).toBe(true);
    expect(pattern.test('POST /api/threads creates a thread')).toBe(true);
    expect(pattern.test('GET /health/ready reports ready')).toBe(false);
    expect(pattern.test('auth GET /health answers 200')).toBe(false);
  });
});

describe('catalog rules by check id', () => {
  const base = (file: string): TestIdentity => ({ project: 'phase1', file, fullName: 'Some describe > some reworded title', tags: ['p1', 'redis'] });

  it('match a test by its id, whatever its title', async () => {
    const { catalog, warnings } = await loadCatalog();
    expect(warnings).toEqual([]);
    expect(functionsOf(catalog, { ...base('tests/phase1/phase1.test.ts'), checkId: CHECK_IDS.redisProbe })).toEqual(['real-time', 'user-auth']);
    expect(functionsOf(catalog, { ...base('tests/phase1/phase1.test.ts'), checkId: CHECK_IDS.pgProbe, tags: ['p1', 'postgres'] })).toEqual(['chat']);
  });

  it('name only ids of CHECK_IDS in the shipped catalog, and no title patterns', async () => {
    const { catalog } = await loadCatalog();
    const known = new Set<string>(Object.values(CHECK_IDS));
    const named = catalog.functionRules.flatMap((r) => r.match.checks ?? []);
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((id) => !known.has(id))).toEqual([]);
    expect(catalog.functionRules.filter((r) => r.match.title !== undefined)).toEqual([]);
  });

  it('still read a user catalog keyed by title', async () => {
    const { catalog: shipped } = await loadCatalog();
    const { catalog, warnings } = await parseCatalog({ ...shipped, functionRules: [{ match: { project: 'phase1', title: '^Redis direct probe > ' }, functions: ['real-time'] }] });
    expect(warnings).toEqual([]);
    expect(functionsOf(catalog, { ...base('x.ts'), fullName: 'Redis direct probe > answers PING', checkId: CHECK_IDS.redisProbe })).toEqual(['real-time']);
    expect(functionsOf(catalog, { ...base('x.ts'), fullName: 'something else', checkId: CHECK_IDS.redisProbe })).toEqual([]);
  });
});

describe('history by check id', () => {
  const entry = (at: string, tests: HistoryEntry['tests'], checks?: HistoryEntry['checks']): HistoryEntry => ({
    schema: 'stagecheck.history', v: 1, runId: null, at, target: 'local', version: null, verdict: 'PASS', tests, kpis: {}, ...(checks ? { checks } : {}),
  });

  it('reads entries keyed by title and by id, an id surviving a reworded title', () => {
    const index = indexHistory(null, [
      entry('2026-11-01T00:00:00Z', { 'phase1|a.ts|Old title': 'FAIL' }),
      entry('2026-11-02T00:00:00Z', { 'phase1|a.ts|New title': 'PASS' }, { [CHECK_IDS.redisProbe]: 'PASS' }),
      entry('2026-11-03T00:00:00Z', { 'phase1|a.ts|New title': 'FAIL' }, { [CHECK_IDS.redisProbe]: 'FAIL' }),
    ]);
    // The old entry has no id: read by its title key, which the test no longer has.
    expect(index.test('phase1|a.ts|New title', CHECK_IDS.redisProbe)).toMatchObject({ runs: 2, failures: 1 });
    expect(index.test('phase1|a.ts|Old title', CHECK_IDS.redisProbe)).toMatchObject({ runs: 3, failures: 2 });
    expect(index.test('phase1|a.ts|Old title')).toMatchObject({ runs: 1, failures: 1 });
  });
});

describe('suite describes', () => {
  // The project-level sequence.concurrent does not reach the tests (Vitest 4.1.12), so each
  // describe says so itself; one that does not runs its agent runs one after another, which cost
  // the staging profile's phase 2 about 50 s of golden paths in a row (docs/performance.md).
  it('each say concurrent: true, so a file\'s tests wait on the target side by side, not in turn', () => {
    const serial = specSources().flatMap((s) =>
      s.text
        .split('\n')
        .filter((line) => /(?<![.\w])describe\(/.test(line) && !/concurrent: true/.test(line))
        .map((line) => `${s.file}: ${line.trim().slice(0, 80)}`),
    );
    expect(serial).toEqual([]);
  });
});
