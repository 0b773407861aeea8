/**
 * The suite's own TypeScript stack (helpers/, fixtures/, reporter/) loaded by Node as plain
 * JavaScript, not module by module through Vite's module runner. The runner fetches, wraps and
 * evaluates each of the ~80 modules a phase-1 worker needs, one at a time over its channel to
 * the main process: measured, that was the largest part of what the suite added to a phase-1
 * run over Vitest's own floor (docs/performance.md).
 *
 * - {@link compileNativeStack} turns each source file (and the global setup) into a JavaScript twin under
 *   `node_modules/.stagecheck-native/` (the same path, `.js`; relative imports renamed to their
 *   twins; `import.meta.url` the source file's, so the files it locates relative to itself are
 *   found; an inline source map, so a stack trace names the `.ts` line). Only files whose content
 *   changed are compiled again (a manifest of content hashes); a file whose size, mtime and ctime
 *   are those the manifest saw is not even read again, since every Vitest process checks. Every
 *   write is atomic, so runs started side by side share the twins.
 * - {@link nativeStack}, a plugin of the suite projects, resolves an import of the stack made by
 *   a module Vite loads (a test file, a setup file) to its twin. Vitest leaves whatever lies under
 *   `node_modules` to Node, and a twin imports only twins, so a worker holds one instance of each
 *   module, as before (one client pool, one token cache).
 * - Watch mode keeps the runner: Node keeps a module it has loaded, so a rerun would not see an
 *   edited helper. A source that does not compile keeps it too, for the whole run, so Vite reports
 *   the error where it is.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { Vite } from 'vitest/node';
import { writeFileAtomically } from '../helpers/core/atomic-file.ts';

/** The folders compiled, by path from the project root: the code the suite's tests import. */
export const NATIVE_STACK_DIRS = ['helpers', 'fixtures', 'reporter'] as const;

/**
 * Single files compiled too: the suite's global setup, which the main process would otherwise
 * have Vite transform on every run (its modules stay out of Vitest's module cache, tests/module-cache.ts).
 */
export const NATIVE_STACK_FILES = ['tests/global-setup.ts'] as const;

/** Where the twins live: inside node_modules, which Vitest externalizes, and which a fresh install clears. */
export const NATIVE_STACK_OUT = join('node_modules', '.stagecheck-native');

const MANIFEST = 'manifest.json';

/** A relative import of a `.ts` file, static or dynamic: its specifier renamed to the twin's. */
const RELATIVE_TS_IMPORT = /((?:\bfrom|\bimport)\s*\(?\s*)(["'])(\.{1,2}\/[^"'\n]+?)\.ts\2/g;

export interface NativeStack {
  /** Absolute path of every compiled source file → its twin. */
  twins: ReadonlyMap<string, string>;
  compiled: number;
}

/**
 * Brings the twins up to date with the sources under `root` and returns where each one is.
 * Throws when a source does not compile (the caller keeps the runner for the run).
 */
export function compileNativeStack(root: string): NativeStack {
  const outDir = join(root, NATIVE_STACK_OUT);
  const manifestFile = join(outDir, MANIFEST);
  const previous = readManifest(manifestFile);
  const next: Record<string, ManifestEntry> = {};
  const twins = new Map<string, string>();
  let compiled = 0;
  let restamped = 0;
  const sources = [...NATIVE_STACK_DIRS.flatMap((dir) => sourceFiles(join(root, dir))), ...NATIVE_STACK_FILES.map((file) => join(root, file)).filter((file) => existsSync(file))];
  for (const source of sources) {
    const rel = relative(root, source);
    const twin = join(outDir, rel.replace(/\.ts$/, '.js'));
    twins.set(source, twin);
    const known = previous[rel];
    const stamp = stampOf(source);
    if (known?.stamp === stamp && existsSync(twin)) {
      next[rel] = known;
      continue;
    }
    const code = readFileSync(source, 'utf8');
    const hash = createHash('sha1').update(code).digest('hex');
    next[rel] = { hash, stamp };
    if (known?.hash === hash && existsSync(twin)) {
      restamped += 1; // touched (a checkout, a save without changes): the twin stands
      continue;
    }
    writeFileAtomically(twin, compile(code, source));
    compiled += 1;
  }
  for (const rel of Object.keys(previous)) {
    if (!(rel in next)) rmSync(join(outDir, rel.replace(/\.ts$/, '.js')), { force: true });
  }
  if (compiled > 0 || restamped > 0 || Object.keys(previous).length !== Object.keys(next).length) {
    writeFileAtomically(join(outDir, 'package.json'), '{ "type": "module" }\n');
    writeFileAtomically(manifestFile, `${JSON.stringify(next)}\n`);
  }
  return { twins, compiled };
}

/**
 * esbuild loads only when a source changed: vitest.config.ts asks for the twins in every Vitest
 * process, and most runs find them up to date.
 */
const esbuild = (): typeof import('esbuild') => createRequire(import.meta.url)('esbuild') as typeof import('esbuild');

function compile(code: string, source: string): string {
  const { code: js } = esbuild().transformSync(code, {
    loader: 'ts',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    sourcefile: source,
    define: { 'import.meta.url': JSON.stringify(pathToFileURL(source).href) },
  });
  return js.replace(RELATIVE_TS_IMPORT, '$1$2$3.js$2');
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** What the manifest knows of a source: its content's hash, and the stat stamp it had then. */
interface ManifestEntry {
  hash: string;
  stamp: string;
}

/** Size, mtime and ctime: any write changes the ctime, which no tool sets back. */
function stampOf(file: string): string {
  const stats = statSync(file);
  return `${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

function readManifest(file: string): Record<string, ManifestEntry | undefined> {
  try {
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    // An entry of an older form (a bare hash) is read again, as a changed file is.
    return Object.fromEntries(Object.entries(manifest).filter(([, entry]) => typeof (entry as ManifestEntry | null)?.stamp === 'string')) as Record<string, ManifestEntry>;
  } catch {
    return {}; // none yet, or torn: everything is compiled again
  }
}


/** One compilation per root and process: the config and both suite projects ask for it. */
const compiledRoots = new Map<string, NativeStack | null>();

/**
 * The twins under `root`, compiled if needed, once per process; null when a source does not
 * compile (Vite's own transform then reports the error in the file that has it).
 */
export function prepareNativeStack(root: string): NativeStack | null {
  if (!compiledRoots.has(root)) {
    try {
      compiledRoots.set(root, compileNativeStack(root));
    } catch {
      compiledRoots.set(root, null);
    }
  }
  return compiledRoots.get(root) ?? null;
}

/** The twin of a source file given by path from `root`, or the source's own path when there is none. */
export function twinOrSource(root: string, file: string): string {
  return prepareNativeStack(root)?.twins.get(join(root, file)) ?? join(root, file);
}

/** The plugin of the suite projects (vitest.config.ts); see the module comment. */
export function nativeStack(): Vite.Plugin {
  let twins: ReadonlyMap<string, string> | undefined;
  return {
    name: 'stagecheck:native-stack',
    enforce: 'pre',
    // Called in the main process before any worker starts, after the command line is applied.
    configureVitest({ vitest }) {
      twins = vitest.config.watch ? undefined : prepareNativeStack(vitest.config.root)?.twins;
    },
    resolveId(source, importer) {
      if (!twins || !importer || !source.startsWith('.') || !source.endsWith('.ts')) return null;
      const importerFile = importer.replace(/[?#].*$/, '');
      if (importerFile.includes(`${sep}node_modules${sep}`)) return null;
      return twins.get(resolve(dirname(importerFile), source)) ?? null;
    },
  };
}
