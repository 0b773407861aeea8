/**
 * Fail fast on a dead component (helpers/transport/component-watch.ts): the probe decides, the
 * mark is shared through the run's state file, requests in flight are cut short, and a component
 * that answers again is used again.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckError } from '../../helpers/core/errors.ts';
import { ComponentWatch, drainComponentEvents, isTransportFailure } from '../../helpers/transport/component-watch.ts';
import { createHttpClient } from '../../helpers/transport/http.ts';
import { checkErrorOf, closeServer, listen, refusedPort } from '../support/net.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function stateFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stagecheck-watch-'));
  dirs.push(dir);
  return join(dir, 'backend.json');
}

const refused = (endpoint = 'GET http://127.0.0.1:9/health'): CheckError =>
  new CheckError(`${endpoint}: tcp failure ECONNREFUSED`, { component: 'backend', layer: 'tcp', code: 'ECONNREFUSED', endpoint });

/** A probe whose answers are scripted: true = the component answered, false = refused. */
function scriptedProbe(answers: boolean[]): { probe: () => Promise<void>; calls: () => number } {
  let calls = 0;
  return {
    probe: async () => {
      const answered = answers[Math.min(calls, answers.length - 1)];
      calls += 1;
      if (!answered) throw refused();
    },
    calls: () => calls,
  };
}

describe('what raises a suspicion', () => {
  it('is a transport failure: refused, reset, DNS, or a timeout; not an HTTP status, a certificate or a content error', () => {
    expect(isTransportFailure(refused())).toBe(true);
    expect(isTransportFailure(new CheckError('x', { component: 'backend', layer: 'dns', code: 'ENOTFOUND' }))).toBe(true);
    expect(isTransportFailure(new CheckError('x', { component: 'backend', layer: 'http-status', code: 'HEADERS_TIMEOUT' }))).toBe(true);
    expect(isTransportFailure(new CheckError('x', { component: 'backend', layer: 'tls', code: 'TLS_HANDSHAKE_TIMEOUT' }))).toBe(true);
    expect(isTransportFailure(new CheckError('x', { component: 'backend', layer: 'http-status', code: 503 }))).toBe(false);
    expect(isTransportFailure(new CheckError('x', { component: 'network', layer: 'tls', code: 'CERT_HAS_EXPIRED' }))).toBe(false);
    expect(isTransportFailure(new CheckError('x', { component: 'backend', layer: 'content', code: 'INVALID_JSON' }))).toBe(false);
    expect(isTransportFailure(new Error('harness bug'))).toBe(false);
  });
});

describe('ComponentWatch', () => {
  it('marks the component down when the probe agrees, and every later request fails at once with one message', async () => {
    drainComponentEvents();
    const { probe, calls } = scriptedProbe([false]);
    const watch = new ComponentWatch('backend', probe, { stateFile: stateFile() });
    watch.answered();
    const [first, second] = await Promise.all([watch.judge(refused('GET http://h/a'), 'GET http://h/a'), watch.judge(refused('POST http://h/b'), 'POST http://h/b')]);
    expect(calls(), 'one probe for two failures at once').toBe(1);
    expect(first).toBeInstanceOf(CheckError);
    const message = (first as CheckError).message;
    expect(message).toMatch(/^backend is down since \d\d:\d\d:\d\d\.\d{3} UTC \(tcp ECONNREFUSED, confirmed by GET \/health: tcp ECONNREFUSED\); last good answer at \d\d:\d\d:\d\d\.\d{3}$/);
    expect((second as CheckError).message).toBe(message);
    expect((second as CheckError).details).toMatchObject({ component: 'backend', layer: 'tcp', code: 'ECONNREFUSED', endpoint: 'POST http://h/b' });
    const gated = (() => {
      try {
        watch.gate('GET http://h/c');
      } catch (error) {
        return error as CheckError;
      }
      return undefined;
    })();
    expect(gated?.message).toBe(message);
    expect(drainComponentEvents()).toMatchObject([{ component: 'backend', kind: 'down', cause: 'tcp ECONNREFUSED' }]);
  });

  it('is not tripped by one transient error: the probe answers, the original error stands, nothing is marked', async () => {
    const { probe } = scriptedProbe([true]);
    const watch = new ComponentWatch('backend', probe, { stateFile: stateFile() });
    const original = refused();
    expect(await watch.judge(original, 'GET http://h/a')).toBe(original);
    expect(watch.current()).toBeUndefined();
    expect(() => watch.gate('GET http://h/a')).not.toThrow();
  });

  it('shares the mark with the run\'s other workers through the state file, and lifts it there when the component answers again', async () => {
    drainComponentEvents();
    const file = stateFile();
    const here = new ComponentWatch('backend', scriptedProbe([false]).probe, { stateFile: file });
    const { probe, calls } = scriptedProbe([true]);
    const there = new ComponentWatch('backend', probe, { stateFile: file, reprobeAfterMs: 0 });
    await here.judge(refused(), 'GET http://h/a');
    expect(() => there.gate('GET http://h/b'), 'the other worker fails at once').toThrow(/backend is down since/);
    // That gate started a background probe (reprobeAfterMs 0); it answers, so the mark is lifted for both.
    await expect.poll(() => calls()).toBe(1);
    await expect.poll(() => here.current()).toBeUndefined();
    expect(() => there.gate('GET http://h/b')).not.toThrow();
    expect(drainComponentEvents().map((e) => e.kind)).toEqual(['down', 'back']);
  });

  it("names the run's last good answer, whichever worker saw it, and keeps sharing it while answers keep coming", async () => {
    const file = stateFile();
    const answering = new ComponentWatch('backend', scriptedProbe([true]).probe, { stateFile: file });
    const confirming = new ComponentWatch('backend', scriptedProbe([false]).probe, { stateFile: file });
    // Answers every 100 ms for 1.3 s: shared at the start, and again once a second has passed.
    const first = Date.now();
    while (Date.now() - first < 1_300) {
      answering.answered();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const second = Date.now();
    const error = (await confirming.judge(refused(), 'GET http://h/a')) as CheckError;
    const lastGoodAt = (error.details.evidence?.down as { lastGoodAt?: number }).lastGoodAt!;
    expect(lastGoodAt, 'shared again after a second of answers').toBeGreaterThanOrEqual(first + 1_000);
    expect(lastGoodAt).toBeLessThanOrEqual(second);
  });

  it('tells requests in flight, in this worker and through the state file in another', async () => {
    const file = stateFile();
    const here = new ComponentWatch('backend', scriptedProbe([false]).probe, { stateFile: file });
    const there = new ComponentWatch('backend', scriptedProbe([false]).probe, { stateFile: file });
    const heard: string[] = [];
    const offHere = here.onDown((down) => heard.push(`here ${down.component}`));
    const offThere = there.onDown((down) => heard.push(`there ${down.component}`));
    await here.judge(refused(), 'GET http://h/a');
    await expect.poll(() => heard.sort()).toEqual(['here backend', 'there backend']);
    offHere();
    offThere();
  });
});

describe('the HTTP client with fail-fast', () => {
  it('cuts a request in flight short once the component is confirmed down, long before its own deadline', async () => {
    // /slow never answers; everything else answers until the server is closed, then refuses.
    const sockets = new Set<net.Socket>();
    const server = http.createServer((request, response) => {
      if (request.url === '/slow') return;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"healthy"}');
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    const port = await listen(server);
    const stateDir = mkdtempSync(join(tmpdir(), 'stagecheck-watch-'));
    dirs.push(stateDir);
    const client = createHttpClient({ baseUrl: `http://127.0.0.1:${port}`, component: 'backend', defaultTimeoutMs: 30_000, failFast: { stateDir, probeTimeoutMs: 2_000 } });
    try {
      expect((await client.request('GET', '/health')).status).toBe(200);
      const started = performance.now();
      const slow = checkErrorOf(client.request('GET', '/slow'));
      // Stop the server: new connections are refused, the hung request's socket stays open.
      server.close();
      const refusedNow = await checkErrorOf(client.request('GET', '/health', { headers: { connection: 'close' } }).then(() => client.request('GET', '/other')));
      const cut = await slow;
      const waitedMs = performance.now() - started;
      expect(refusedNow.message).toMatch(/^backend is down since .* \(tcp ECONNREFUSED, confirmed by GET \/health: tcp ECONNREFUSED\); last good answer at /);
      expect(cut.message, 'the request in flight fails with the same cause').toBe(refusedNow.message);
      expect(cut.details.endpoint).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/slow/);
      expect(waitedMs, 'cut short, far below its 30 s deadline').toBeLessThan(15_000);
      // Later requests fail at once, without touching the network.
      const gatedAt = performance.now();
      expect((await checkErrorOf(client.request('GET', '/anything'))).message).toBe(refusedNow.message);
      expect(performance.now() - gatedAt).toBeLessThan(1_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await closeServer(server).catch(() => {});
      await client.close();
    }
  });

  it('leaves a client without fail-fast as it was: each request fails on its own', async () => {
    const port = await refusedPort();
    const client = createHttpClient({ baseUrl: `http://127.0.0.1:${port}`, component: 'backend', defaultTimeoutMs: 5_000 });
    try {
      const error = await checkErrorOf(client.request('GET', '/health'));
      expect(error.message).toMatch(/tcp failure ECONNREFUSED/);
    } finally {
      await client.close();
    }
  });
});
