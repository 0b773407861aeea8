/**
 * HTTP_PROXY with plain http:// and ws:// targets: the CONNECT tunnel arrives paused
 * (helpers/transport/tunnel.ts keeps every byte for its reader), and TLS resumes it on its own,
 * so only plain HTTP on a tunnel can stall. The network-path walk's HTTP layer and the WebSocket
 * upgrade both read their answer through the proxy (found by `npm run doctor`: both used to wait
 * out their whole budget). All on 127.0.0.1, with STAGECHECK_PROXY_LOOPBACK=1.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { Budget } from '../../helpers/core/budgets.ts';
import { checkNetworkPath } from '../../helpers/transport/network-path.ts';
import { connectWs } from '../../helpers/transport/ws-handshake.ts';
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy.ts';
import { closeServer, listen } from '../support/net.ts';

const VARIABLES = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy', 'STAGECHECK_PROXY_LOOPBACK'];
const saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));

let server: http.Server;
let wss: WebSocketServer;
let proxy: ConnectProxy;
let base: string;

beforeAll(async () => {
  server = http.createServer((_, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"healthy"}'));
  wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (socket) => socket.send(JSON.stringify({ type: 'connection_established', connection_id: 'c1', user_id: 'u1' })));
  base = `http://127.0.0.1:${await listen(server)}`;
  proxy = await startConnectProxy();
  for (const name of VARIABLES) delete process.env[name];
  process.env.HTTP_PROXY = proxy.url;
  process.env.STAGECHECK_PROXY_LOOPBACK = '1';
});

afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  wss.close();
  await closeServer(server);
  await proxy.close();
});

describe('HTTP_PROXY to a plain http:// target', () => {
  it('walks the network path through the proxy to the HTTP answer', async () => {
    const path = await checkNetworkPath(base, { timeoutMs: 3_000, component: 'backend' });
    expect(path.layers.map((l) => `${l.layer}:${l.ok}`)).toEqual(['dns:true', 'tcp:true', 'proxy:true', 'http-status:true']);
    expect(path.layers.at(-1)?.ms).toBeLessThan(3_000);
  });

  it('opens a WebSocket through the proxy up to connection_established', async () => {
    const before = proxy.tunnels.length;
    const session = await connectWs({ url: `${base.replace('http', 'ws')}/ws`, auth: { method: 'none' }, budget: new Budget('ws handshake', 3_000) });
    expect(session.connectionId).toBe('c1');
    await session.close();
    expect(proxy.tunnels.length).toBe(before + 1);
  });
});
