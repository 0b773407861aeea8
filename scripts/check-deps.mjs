#!/usr/bin/env node
// The dependency rule set of issue 12 (.dependency-cruiser.cjs), run over the project's sources.
//
//   npm run deps                       check: exit 1 on any rule violation, on too few modules, or on a
//                                      helpers/ module over 400 lines
//   npm run deps:graph                 also redraw docs/architecture.svg (folder level, needs Graphviz `dot`)
//   node scripts/check-deps.mjs [--min-modules N] [--graph] [path ...]
//
// Why the module count: a rule set that reads no module (a parser that cannot read the sources,
// a folder renamed away, an import style that no longer resolves) passes while checking nothing.
// So the check fails when fewer than MIN_MODULES of the project's own modules were read, and always
// prints how many it read.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, format } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const GRAPH = join(ROOT, 'docs', 'architecture.svg');
// 169 modules when this was written; the floor sits below that so files can be merged, and far above
// what a check that silently lost a folder or its parser would read.
const MIN_MODULES = 150;
// The folders named by the rule set, and the rest of the project's code.
const KNOWN_FOLDERS = ['tests', 'fixtures', 'helpers', 'reporter', 'scripts', 'bench', 'platform', 'selftest'];
const NOT_CODE = new Set(['node_modules', 'reports', 'docs', 'catalog', 'coverage']);
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;
// A helper module does one job; past this many lines it has grown a second one (issue 12).
const HELPER_MAX_LINES = 400;
// The graph is drawn per folder (and per layer inside helpers/), else it is a wall of ~160 boxes.
const GRAPH_COLLAPSE = '^(helpers/[^/]+|[^/]+)/';

function usage(message) {
  console.error(`deps: ${message}\nusage: node scripts/check-deps.mjs [--min-modules N] [--graph] [path ...]`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = { minModules: MIN_MODULES, graph: false, paths: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--graph') args.graph = true;
    else if (arg === '--min-modules') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 0) usage(`--min-modules needs a whole number, got ${argv[i]}`);
      args.minModules = n;
    } else if (arg.startsWith('-')) usage(`unknown option ${arg}`);
    else args.paths.push(arg);
  }
  return args;
}

function holdsSources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    if (entry.isFile() && SOURCE.test(entry.name)) return true;
    if (entry.isDirectory() && holdsSources(join(dir, entry.name))) return true;
  }
  return false;
}

// The known folders that exist, plus any other top-level folder holding sources (a folder renamed
// or added later is checked, not skipped), plus root-level sources such as vitest.config.ts.
function defaultPaths() {
  const known = KNOWN_FOLDERS.filter((f) => existsSync(join(ROOT, f)) && statSync(join(ROOT, f)).isDirectory());
  const others = readdirSync(ROOT, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !NOT_CODE.has(e.name) && !KNOWN_FOLDERS.includes(e.name))
    .map((e) => e.name)
    .filter((name) => holdsSources(join(ROOT, name)))
    .sort();
  const rootFiles = readdirSync(ROOT, { withFileTypes: true })
    .filter((e) => e.isFile() && SOURCE.test(e.name) && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  return [...known, ...others, ...rootFiles];
}

const isOwnModule = (m) => !m.coreModule && !m.couldNotResolve && !/(^|\/)node_modules\//.test(m.source);

async function main() {
  const args = parseArgs(process.argv.slice(2));
  process.chdir(ROOT);
  const paths = args.paths.length > 0 ? args.paths : defaultPaths();
  if (paths.length === 0) {
    console.error('deps: FAILED - nothing to check: none of the source folders exists.');
    return 1;
  }

  const started = performance.now();
  const options = await extractDepcruiseOptions(CONFIG);
  const { output: result } = await cruise(paths, { ...options, validate: true });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);

  const own = result.modules.filter(isOwnModule);
  const edges = own.reduce((n, m) => n + m.dependencies.filter((d) => !d.coreModule && !/(^|\/)node_modules\//.test(d.resolved)).length, 0);
  const { error, warn } = result.summary;
  console.log(`deps: read ${own.length} modules with ${edges} dependencies between them in ${paths.join(' ')} (${seconds} s)`);

  let failed = false;
  const { violations } = result.summary;
  if (violations.length > 0) {
    failed = error > 0;
    const comments = new Map(result.summary.ruleSetUsed.forbidden.map((rule) => [rule.name, rule.comment]));
    const shown = new Set();
    for (const v of violations) {
      // a cycle is reported as its full path: a -> b -> ... -> a
      const path = v.cycle?.length ? [v.from, ...v.cycle.map((step) => step.name)] : [v.from, v.to];
      console.error(`deps: ${v.rule.severity} ${v.rule.name}: ${path.join(' -> ')}`);
      if (!shown.has(v.rule.name) && comments.get(v.rule.name)) console.error(`      why: ${comments.get(v.rule.name)}`);
      shown.add(v.rule.name);
    }
    console.error(`deps: ${failed ? 'FAILED' : 'warnings only'} - ${error} error(s), ${warn} warning(s) against .dependency-cruiser.cjs (the layers: docs/architecture.md)`);
  }
  if (own.length < args.minModules) {
    failed = true;
    console.error(
      `deps: FAILED - read only ${own.length} modules, fewer than the minimum of ${args.minModules}: ` +
        'the rules checked (almost) nothing. Is a source folder missing from the paths, or can the swc parser ' +
        '(@swc/core, .dependency-cruiser.cjs options.parser) no longer read the sources?',
    );
  }

  const oversized = oversizedHelpers(join(ROOT, 'helpers'));
  if (oversized.length > 0) {
    failed = true;
    for (const { file, lines } of oversized) console.error(`deps: FAILED - ${file} has ${lines} lines, over the ${HELPER_MAX_LINES} a helper module may have: split it by job`);
  }

  if (args.graph) {
    const includeOnly = `^(${paths.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})(/|$)`;
    const dot = await format(result, { outputType: 'dot', collapse: GRAPH_COLLAPSE, includeOnly });
    const svg = spawnSync('dot', ['-T', 'svg'], { input: dot.output, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (svg.error || svg.status !== 0) {
      console.error(`deps: cannot render the graph with Graphviz 'dot' (${svg.error?.message ?? svg.stderr.trim()}); install it with: apt-get install graphviz`);
      return 1;
    }
    writeFileSync(GRAPH, svg.stdout);
    console.log(`deps: wrote ${GRAPH.slice(ROOT.length + 1)}`);
  }

  if (!failed) console.log(`deps: ok - no violation of ${result.summary.ruleSetUsed.forbidden.length} rules`);
  return failed ? 1 : 0;
}

/** helpers/ modules over HELPER_MAX_LINES lines, by path from the project root. */
function oversizedHelpers(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((name) => SOURCE.test(name))
    .map((name) => ({ file: join('helpers', name), lines: readFileSync(join(dir, name), 'utf8').split('\n').length - 1 }))
    .filter(({ lines }) => lines > HELPER_MAX_LINES);
}

main().then(
  (code) => process.exit(code),
  (error) => {
    // a file swc cannot parse comes back with a native backtrace: keep the message and the file name
    const text = String(error?.message ?? error);
    const backtrace = text.indexOf('Stack backtrace:');
    const brief = backtrace < 0 ? text : `${text.slice(0, backtrace).trimEnd()}\n${text.match(/\.\.\. in \S+/)?.[0] ?? ''}`;
    console.error(`deps: FAILED - dependency-cruiser could not read the sources: ${brief.trim()}`);
    process.exit(1);
  },
);
