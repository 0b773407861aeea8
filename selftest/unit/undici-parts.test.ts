/**
 * The HTTP client loads undici's parts from their own files (helpers/transport/undici-parts.ts),
 * not its index: they must be the very objects the index exports, and loading the client must not
 * load the index after all.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Agent, buildConnector, UNDICI_PART_FILES } from '../../helpers/transport/undici-parts.ts';

const load = createRequire(import.meta.url);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('undici parts', () => {
  it('are the objects undici\'s index exports (an upgrade that moves a file fails here)', () => {
    const undici = load('undici') as typeof import('undici');
    expect(Agent, UNDICI_PART_FILES.Agent).toBe(undici.Agent);
    expect(buildConnector, UNDICI_PART_FILES.buildConnector).toBe(undici.buildConnector);
    expect(load(UNDICI_PART_FILES.request), UNDICI_PART_FILES.request).toBe(undici.Dispatcher.prototype.request);
  });

  it('leave undici\'s index unloaded when the HTTP client is loaded', () => {
    const script = [
      "await import('./helpers/transport/http.ts');",
      "const { createRequire } = await import('node:module');",
      "const cache = Object.keys(createRequire(import.meta.url).cache);",
      "console.log(JSON.stringify({ parts: cache.filter((f) => f.includes('/undici/lib/dispatcher/agent.js')).length, index: cache.filter((f) => f.endsWith('/undici/index.js')).length }));",
    ].join('\n');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ parts: 1, index: 0 });
  });
});
