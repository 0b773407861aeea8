/**
 * Secrets never reach output. The reference platform runs with sentinel secrets (bypass key,
 * JWT signing secret, the seeded user's password), `npm run e2e` runs against it as against a
 * staging, and no sentinel may appear in its stdout, stderr, or any file it wrote (Markdown,
 * JSON, HTML, JUnit XML, history, gate): not as is, not URL-encoded, not base64 or hex (the
 * way it would sit in a dumped `Authorization: Basic` or `X-E2E-Bypass-Key` header). A token
 * signed with the secret is not the secret and may appear (redacted or not).
 *
 * Two runs: a passing one that used every secret (the tests that send each one passed), and a
 * failing one whose suite holds different, wrong sentinels, so the requests carrying them are
 * refused and failure evidence is written: evidence is where leaks happen. In that run the auth
 * service echoes each refused request on its error page, as debug pages of a staging do; before
 * helpers/core/redact.ts removed every configured secret, the echoed login password reached JUnit
 * through Vitest's serialized error.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPlatform, type LocalPlatform } from '../../helpers/transport/local-platform.ts';
import { LOCAL_HEARTBEAT_S } from '../support/target-platform.ts';
import { speedBlindEnv } from '../support/speed-blind.ts';
import { closeServer, listen } from '../support/net.ts';
import { runE2e, tailOf, type E2eRun } from '../support/run-e2e.ts';
import { CHECK_IDS } from '../../tests/check-ids.ts';

/** A unique, recognisable secret; `+/=` make its URL-encoded and base64 forms differ from it. */
function sentinel(kind: string): string {
  return `SENTINEL-${kind}-${randomUUID()}+/=`;
}

/** What the platform really uses. */
const REAL = { bypass: sentinel('bypass'), jwt: sentinel('jwt'), password: sentinel('password') };
/** What the suite holds in the failing run: wrong, so every request carrying one is refused. */
const WRONG = { bypass: sentinel('wrongbypass'), jwt: sentinel('wrongjwt'), password: sentinel('wrongpassword') };

/**
 * Base64 of `secret` as it appears inside a longer encoded blob (`user:secret`), for each of the
 * three byte alignments: only the characters that depend on the secret's bytes alone.
 */
function base64Needles(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  return [0, 1, 2].map((offset) => {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const end = 4 * Math.floor((offset + bytes.length) / 3);
    return encoded.slice(offset === 0 ? 0 : 4, end);
  });
}

/** Every form a leaked secret could take in text. */
function leakForms(secret: string): Map<string, string> {
  const forms = new Map<string, string>([
    ['as is', secret],
    ['URL-encoded', encodeURIComponent(secret)],
    ['form-encoded', new URLSearchParams({ v: secret }).toString().slice(2)],
    ['hex', Buffer.from(secret).toString('hex')],
  ]);
  base64Needles(secret).forEach((needle, i) => {
    forms.set(`base64 (alignment ${i})`, needle);
    forms.set(`base64url (alignment ${i})`, needle.replace(/\+/g, '-').replace(/\//g, '_'));
  });
  return forms;
}

/** `<where>: <secret name> <form>` for every secret found in `text`; also any bare "SENTINEL" (a truncated leak). */
function findLeaks(where: string, text: string, secrets: Record<string, string>): string[] {
  const leaks: string[] = [];
  const lower = text.toLowerCase();
  for (const [name, secret] of Object.entries(secrets)) {
    for (const [form, needle] of leakForms(secret)) {
      if (text.includes(needle) || (form === 'hex' && lower.includes(needle))) leaks.push(`${where}: ${name} ${form}`);
    }
  }
  const marker = /sentinel/i.exec(text);
  if (marker && leaks.length === 0) leaks.push(`${where}: "${text.slice(Math.max(0, marker.index - 40), marker.index + 60)}"`);
  return leaks;
}

/** Every file under `dir`, recursively, with its text. */
function filesUnder(dir: string): { path: string; text: string }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .map((path) => ({ path, text: readFileSync(path, 'utf8') }));
}

function leaksOf(run: E2eRun, secrets: Record<string, string>): string[] {
  return [
    ...findLeaks('stdout', run.stdout, secrets),
    ...findLeaks('stderr', run.stderr, secrets),
    ...filesUnder(run.reportDir).flatMap((file) => findLeaks(file.path.slice(run.reportDir.length + 1), file.text, secrets)),
  ];
}

/**
 * A staging whose error pages echo the request, as framework debug pages do: every answer of
 * 400 or more from `target` gets the request's headers and JSON fields appended as an HTML
 * table. Failure evidence records response bodies, so this is how a secret the suite sent comes
 * back to it.
 */
async function chattyErrorPages(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !['host', 'connection', 'content-length'].includes(name))) as Record<string, string>;
      fetch(`${target}${request.url}`, { method: request.method, headers, body: body.length > 0 ? body : undefined })
        .then(async (answer) => {
          let text = await answer.text();
          if (answer.status >= 400) {
            let fields: Record<string, unknown> = {};
            try {
              fields = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
            } catch {
              // not JSON: headers only
            }
            const rows = [...Object.entries(headers), ...Object.entries(fields)].map(([name, value]) => `<tr><td>${name}</td><td>${String(value)}</td></tr>`);
            text += `\n<h2>Request</h2><table>${rows.join('')}</table>`;
          }
          response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' }).end(text);
        })
        .catch((error: unknown) => response.writeHead(502).end(String(error)));
    });
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}

const tempDirs: string[] = [];
function reportDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stagecheck-secrets-'));
  tempDirs.push(dir);
  return dir;
}

let platform: LocalPlatform;
/** Every secret of the platform and of both runs, by name. */
let allSecrets: Record<string, string>;

beforeAll(async () => {
  platform = await startLocalPlatform({
    args: ['--heartbeat-s', LOCAL_HEARTBEAT_S],
    env: { PLATFORM_E2E_BYPASS_KEY: REAL.bypass, PLATFORM_JWT_SECRET: REAL.jwt, PLATFORM_TEST_USER_PASSWORD: REAL.password },
  });
  allSecrets = {
    ...Object.fromEntries(Object.entries(REAL).map(([name, value]) => [name, value])),
    ...Object.fromEntries(Object.entries(WRONG).map(([name, value]) => [`wrong ${name}`, value])),
    'admin token': platform.env.PLATFORM_ADMIN_TOKEN as string,
  };
});
afterAll(async () => {
  await platform?.stop();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function suiteEnv(secrets: typeof REAL): Record<string, string> {
  // STAGING_BASE_URL is set, so the suite starts no platform of its own: a staging to it.
  return {
    ...platform.env,
    E2E_BYPASS_KEY: secrets.bypass,
    STAGING_JWT_SECRET: secrets.jwt,
    STAGING_TEST_PASSWORD: secrets.password,
    STAGING_WS_HEARTBEAT_S: LOCAL_HEARTBEAT_S,
    STAGECHECK_RUN_ID: `selftest-${randomUUID().slice(0, 8)}`,
  };
}

function verdictOf(run: E2eRun, checkId: string): string | undefined {
  return run.report?.tests.find((t) => t.checkId === checkId)?.verdict;
}

/** One test per secret whose request carries it, and what it proves was sent. */
const USES = {
  bypass: CHECK_IDS.testAuthIssues,
  jwt: CHECK_IDS.expiredToken,
  password: CHECK_IDS.loginWrongPassword,
};

describe('secret sentinels', () => {
  it('the leak search finds a secret in each form it can take, and only there', () => {
    const secret = REAL.password;
    for (const [form, needle] of leakForms(secret)) {
      expect(findLeaks('dump', `x-e2e-bypass-key: ${needle}`, { password: secret }), form).toContain(`dump: password ${form}`);
    }
    for (const prefix of ['', 'u', 'qa:', 'qa@x:']) {
      const header = `authorization: Basic ${Buffer.from(`${prefix}${secret}`).toString('base64')}`;
      expect(findLeaks('dump', header, { password: secret }).length, `Basic header with "${prefix}" before the secret`).toBeGreaterThan(0);
    }
    expect(findLeaks('dump', `key: ${secret.slice(0, 20)}...`, {}), 'a truncated sentinel').toHaveLength(1);
    expect(findLeaks('dump', 'authorization: Bearer [redacted]', allSecrets)).toEqual([]);
  });
});

describe.concurrent('npm run e2e with sentinel secrets', () => {
  it('passes using every secret, and none of them is in its output or any file it wrote', async ({ expect }) => {
    const run = await runE2e(['tests/phase1/', 'tests/phase2/auth-flows'], { env: { ...suiteEnv(REAL), ...speedBlindEnv() }, reportDir: reportDir() });
    expect(run.exitCode, tailOf(run)).toBe(0);
    expect(run.report?.verdict, tailOf(run)).toBe('PASS');
    expect(run.report!.counts.total, 'phase 1 and the auth flows ran').toBeGreaterThanOrEqual(30);
    for (const [secret, title] of Object.entries(USES)) expect(verdictOf(run, title), `${title} (sends the ${secret})`).toBe('PASS');
    expect(filesUnder(run.reportDir).map((f) => f.path.slice(run.reportDir.length + 1)).sort()).toEqual(
      expect.arrayContaining(['business-impact.json', 'business-impact.md', 'history.jsonl', 'index.html', 'junit.xml']),
    );
    expect(leaksOf(run, allSecrets)).toEqual([]);
  });

  it('fails when the suite holds wrong sentinels and the auth service echoes them on its error pages, and none of the sentinels is in its output or files', async ({ expect, onTestFinished }) => {
    // Phase 2 alone: with a wrong bypass key phase 1 fails and would block the auth flows.
    const auth = await chattyErrorPages(platform.env.STAGING_AUTH_URL as string);
    onTestFinished(() => auth.close());
    const run = await runE2e(['--project', 'phase2', 'tests/phase2/auth-flows'], { env: { ...suiteEnv(WRONG), STAGING_AUTH_URL: auth.url }, reportDir: reportDir() });
    expect(run.exitCode, tailOf(run)).toBe(1);
    expect(run.report?.verdict, tailOf(run)).toBe('FAIL');
    const failed = run.report!.tests.filter((t) => t.verdict === 'FAIL');
    // The password and the minted token are refused with 401; test-auth with the wrong key too.
    expect(verdictOf(run, USES.password)).toBe('FAIL');
    expect(verdictOf(run, USES.jwt)).toBe('FAIL');
    expect(verdictOf(run, CHECK_IDS.testAuthMalformed)).toBe('FAIL');
    for (const test of failed) expect(test.failure?.code, `${test.fullName} has evidence of the refusal`).toBe(401);
    // Controls: the echoed requests reached the evidence, and JUnit, which carries Vitest's
    // serialized errors as they are, shows them.
    const login = run.report!.tests.find((t) => t.checkId === USES.password);
    expect(JSON.stringify(login?.failure?.details)).toContain('<td>email</td><td>qa@stagecheck.local</td></tr><tr><td>password</td><td>[redacted]</td>');
    expect(readFileSync(join(run.reportDir, 'junit.xml'), 'utf8')).toContain('&lt;td&gt;x-e2e-bypass-key&lt;/td&gt;&lt;td&gt;[redacted]&lt;/td&gt;');
    // The failing run's incident write-up (reporter/incident.ts) is among the files searched.
    expect(filesUnder(run.reportDir).map((f) => f.path.slice(run.reportDir.length + 1))).toContain('incident.md');
    expect(leaksOf(run, allSecrets)).toEqual([]);
  });
});
