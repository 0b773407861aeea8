import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { compileNativeStack, NATIVE_STACK_OUT, nativeStack } from '../../tests/native-stack.ts';
import { mainProcessModulesUncached } from '../../tests/module-cache.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const roots: string[] = [];

/** A scratch project root with the given sources, and the repository's node_modules (esbuild). */
function project(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'stagecheck-native-stack-'));
  roots.push(root);
  mkdirSync(join(root, 'node_modules'));
  symlinkSync(join(REPO, 'node_modules', 'esbuild'), join(root, 'node_modules', 'esbuild'), 'dir');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const twin = (root: string, source: string) => join(root, NATIVE_STACK_OUT, source.replace(/\.ts$/, '.js'));

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('compileNativeStack', () => {
  const sources = {
    'helpers/core/where.ts': "export const where: string = import.meta.url;\nexport type Unused = { a: number };\n",
    'helpers/core/sum.ts': "import { where } from './where.ts';\nexport const sum = (a: number, b: number): number => a + b;\nexport const whereOf = () => where;\n",
    'fixtures/index.ts': "import { sum } from '../helpers/core/sum.ts';\nexport const three = sum(1, 2);\nexport const later = () => import('../helpers/core/where.ts');\n",
  };

  it('writes a JavaScript twin of each source whose relative imports name twins and whose import.meta.url is the source file', async () => {
    const root = project(sources);
    const stack = compileNativeStack(root);
    expect(stack.compiled).toBe(3);
    expect(stack.twins.get(join(root, 'fixtures/index.ts'))).toBe(twin(root, 'fixtures/index.ts'));
    const code = readFileSync(twin(root, 'fixtures/index.ts'), 'utf8');
    expect(code).toContain('"../helpers/core/sum.js"');
    expect(code).toContain('import("../helpers/core/where.js")');
    expect(code).not.toMatch(/\.ts["']/);
    // Node loads the twins as they are: the chain resolves, and a file locates itself where its source is.
    const fixtures = (await import(pathToFileURL(twin(root, 'fixtures/index.ts')).href)) as { three: number; later: () => Promise<{ where: string }> };
    expect(fixtures.three).toBe(3);
    expect((await fixtures.later()).where).toBe(pathToFileURL(join(root, 'helpers/core/where.ts')).href);
  });

  it('compiles again only what changed, and removes the twin of a source that is gone', () => {
    const root = project(sources);
    compileNativeStack(root);
    expect(compileNativeStack(root).compiled).toBe(0);
    writeFileSync(join(root, 'helpers/core/sum.ts'), 'export const sum = (a: number, b: number): number => a + b + 0;\n');
    expect(compileNativeStack(root).compiled).toBe(1);
    rmSync(join(root, 'helpers/core/where.ts'));
    compileNativeStack(root);
    expect(existsSync(twin(root, 'helpers/core/where.ts'))).toBe(false);
  });

  it('reads only sources whose stat changed: a touched file is not compiled again, an edit that kept size and mtime is', () => {
    const root = project(sources);
    compileNativeStack(root);
    const file = join(root, 'helpers/core/sum.ts');
    const { atime, mtime } = statSync(file);
    utimesSync(file, atime, new Date(mtime.getTime() + 5_000));
    expect(compileNativeStack(root).compiled).toBe(0);
    // Same size, mtime set back: only the ctime tells.
    writeFileSync(file, readFileSync(file, 'utf8').replace('a + b', 'b + a'));
    utimesSync(file, atime, new Date(mtime.getTime() + 5_000));
    expect(compileNativeStack(root).compiled).toBe(1);
    expect(readFileSync(twin(root, 'helpers/core/sum.ts'), 'utf8')).toContain('b + a');
  });

  it('compiles the global setup too, whose imports name the twins beside it', () => {
    const root = project({ ...sources, 'tests/global-setup.ts': "import { sum } from '../helpers/core/sum.ts';\nexport default () => void sum(1, 2);\n", 'tests/other.ts': 'export const no = 1;\n' });
    const stack = compileNativeStack(root);
    expect(stack.twins.get(join(root, 'tests/global-setup.ts'))).toBe(twin(root, 'tests/global-setup.ts'));
    expect(readFileSync(twin(root, 'tests/global-setup.ts'), 'utf8')).toContain('"../helpers/core/sum.js"');
    expect(existsSync(twin(root, 'tests/other.ts'))).toBe(false);
  });

  it('compiles a twin again when it was deleted although its source did not change', () => {
    const root = project(sources);
    compileNativeStack(root);
    rmSync(twin(root, 'helpers/core/sum.ts'));
    expect(compileNativeStack(root).compiled).toBe(1);
    expect(existsSync(twin(root, 'helpers/core/sum.ts'))).toBe(true);
  });

  it('throws naming the file when a source does not compile', () => {
    const root = project({ 'helpers/broken.ts': 'export const = ;\n' });
    expect(() => compileNativeStack(root)).toThrow(/broken\.ts/);
  });
});

describe('nativeStack plugin', () => {
  type ResolveId = (source: string, importer?: string) => string | null;
  function plugin(root: string, watch: boolean): ResolveId {
    const p = nativeStack();
    (p.configureVitest as (context: unknown) => void)({ vitest: { config: { root, watch } } });
    return (source, importer) => (p.resolveId as (this: unknown, s: string, i?: string) => string | null).call({}, source, importer);
  }

  it("resolves a test file's import of the stack to its twin, and nothing else", () => {
    const root = project({ 'helpers/a.ts': 'export const a = 1;\n', 'tests/x.test.ts': '' });
    const resolveId = plugin(root, false);
    expect(resolveId('../helpers/a.ts', join(root, 'tests/x.test.ts'))).toBe(twin(root, 'helpers/a.ts'));
    expect(resolveId('../helpers/a.ts', `${join(root, 'tests/x.test.ts')}?v=1`)).toBe(twin(root, 'helpers/a.ts'));
    expect(resolveId('./tags.ts', join(root, 'tests/x.test.ts'))).toBeNull();
    expect(resolveId('vitest', join(root, 'tests/x.test.ts'))).toBeNull();
    expect(resolveId('../../helpers/a.ts', join(root, 'node_modules/pkg/index.js'))).toBeNull();
  });

  it('leaves every import to Vite in watch mode, where Node would keep an edited helper', () => {
    const root = project({ 'helpers/a.ts': 'export const a = 1;\n' });
    expect(plugin(root, true)('../helpers/a.ts', join(root, 'tests/x.test.ts'))).toBeNull();
  });
});

describe('mainProcessModulesUncached', () => {
  it("keeps the main process's modules out of the module cache and leaves the workers' to it", () => {
    let generator: ((context: { environment: { name: string } }) => unknown) | undefined;
    const p = mainProcessModulesUncached();
    (p.configureVitest as (context: unknown) => void)({ experimental_defineCacheKeyGenerator: (g: typeof generator) => (generator = g) });
    expect(generator?.({ environment: { name: '__vitest__' } })).toBe(false);
    expect(generator?.({ environment: { name: 'ssr' } })).toBeUndefined();
  });
});
