/**
 * A transforming HTTP + WebSocket proxy on 127.0.0.1, put in front of a reference platform's
 * backend so the suite meets a deployment that keeps the contract in one of the other ways its
 * "What varies between deployments" allows. Each option is one variation; the proxy counts what
 * it rewrote (`stats`), so a self-test can prove the variation really reached the suite.
 *
 * Handshake outcomes pass through unchanged: an HTTP refusal of the upgrade is answered with the
 * same status and body, the subprotocol the platform echoed is echoed, and the platform's close
 * code (1008, 1011, 1003, ...) is the client's. The auth service is not proxied.
 */
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket, { WebSocketServer, type RawData } from 'ws';

export interface ProxyVariations {
  /** A refusal (agent_error without agent_started) gets an agent_started echoing the requested thread_id first. */
  refusalAfterStarted?: boolean;
  /** A sub-agent reports its own agent_started/agent_thinking/tool pair/agent_completed inside each run. */
  subAgents?: boolean;
  /** Fields nested as the platform the contract comes from sends them (`data.parameters`, `data.result`, the answer in a structured `result`). */
  wrap?: 'data' | 'payload';
  /** Unknown fields on every frame and JSON body. */
  extraFields?: boolean;
  /** `agent_progress`, `partial_result`, `status_update` events and more `agent_thinking` inside each run. */
  extraEvents?: boolean;
  /** One tool_executing/tool_completed pair per run: the others are dropped (the kept one is sent before the terminal). */
  oneTool?: boolean;
  /** The history as `{messages, total, limit, offset}` with `content` as text parts. */
  envelopeHistory?: boolean;
  /** The stored assistant message formatted differently from `final_response` (markdown around the same facts). */
  storedMarkdown?: boolean;
  /** WebSocket pings every this many ms, and `heartbeat` frames during runs. */
  pingsMs?: number;
  /** The first request (HTTP or upgrade), and every one arriving while it waits, held this long. */
  coldStartMs?: number;
  /** Agent events (frames with a run_id) sent at least this many ms apart. */
  eventGapMs?: number;
  /** A completion whose answer matches this (e.g. a division by zero it explains) is sent as agent_error instead. */
  failureAsError?: RegExp;
  /** POST /api/websocket/ticket with a ttl_seconds under this answers 422. */
  minTicketTtlS?: number;
}

export interface ContractProxy {
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /** `ws://127.0.0.1:<port>/ws` */
  wsUrl: string;
  /** What the proxy rewrote, by variation. */
  stats: Record<string, number>;
  close(): Promise<void>;
}

const AGENT_EVENTS = new Set(['agent_started', 'agent_thinking', 'tool_executing', 'tool_completed', 'agent_completed', 'agent_error']);
const ROOT_KEYS = new Set(['type', 'run_id', 'tool_name', 'agent_name', 'timestamp', 'correlation_id']);
const SUB_AGENT = 'research_agent';

type Frame = Record<string, unknown> & { type: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export async function startContractProxy(upstreamBaseUrl: string, variations: ProxyVariations): Promise<ContractProxy> {
  const upstream = new URL(upstreamBaseUrl);
  const stats: Record<string, number> = {};
  const count = (what: string): void => {
    stats[what] = (stats[what] ?? 0) + 1;
  };

  // Cold start: the first request opens a window every request waits out.
  let warm: Promise<void> | undefined;
  const coldStart = async (): Promise<void> => {
    if (!variations.coldStartMs) return;
    if (!warm) {
      count('coldStart');
      warm = sleep(variations.coldStartMs).then(() => undefined);
    }
    await warm;
  };

  const server: Server = createServer((req, res) => {
    // A client that gives up (an aborted request, a reset) ends the exchange, nothing more.
    coldStart().then(() => proxyHttp(req, res)).catch(() => res.destroy());
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async function proxyHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const path = req.url ?? '/';
    if (variations.minTicketTtlS && req.method === 'POST' && path.startsWith('/api/websocket/ticket')) {
      let ttl: unknown;
      try {
        ttl = (JSON.parse(body.toString('utf8') || '{}') as { ttl_seconds?: unknown }).ttl_seconds;
      } catch {
        ttl = undefined;
      }
      if (typeof ttl === 'number' && ttl < variations.minTicketTtlS) {
        count('ticketTtl422');
        const detail = JSON.stringify({ detail: [{ loc: ['body', 'ttl_seconds'], msg: `Input should be greater than or equal to ${variations.minTicketTtlS}`, type: 'greater_than_equal' }] });
        res.writeHead(422, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(detail) }).end(detail);
        return;
      }
    }
    const headers = { ...req.headers, host: upstream.host };
    const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path, headers }, (up) => {
      const type = String(up.headers['content-type'] ?? '');
      const rewrite = type.includes('application/json') && (variations.envelopeHistory || variations.storedMarkdown || variations.extraFields);
      if (!rewrite) {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        return;
      }
      readBody(up).then((raw) => {
        let text = raw.toString('utf8');
        try {
          text = JSON.stringify(rewriteBody(req.method ?? 'GET', path, up.statusCode ?? 0, JSON.parse(text)));
        } catch {
          // not JSON after all: pass it on as it came
        }
        const headersOut = { ...up.headers, 'content-length': String(Buffer.byteLength(text)) };
        delete headersOut['transfer-encoding'];
        res.writeHead(up.statusCode ?? 502, headersOut).end(text);
      }).catch(() => res.destroy());
    });
    out.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `proxy: ${error.message}` }));
    });
    out.end(body);
  }

  function rewriteBody(method: string, path: string, status: number, json: unknown): unknown {
    let body = json;
    const history = method === 'GET' && /^\/api\/threads\/[^/]+\/messages(\?|$)/.test(path) && status === 200 && Array.isArray(body);
    if (history && variations.storedMarkdown) {
      body = (body as Record<string, unknown>[]).map((m) => {
        if (m.role !== 'assistant' || typeof m.content !== 'string') return m;
        count('storedMarkdown');
        return { ...m, content: `**Here is what I found:**\n\n> ${m.content.replace(/\b(\d+(?:\.\d+)?)\b/g, '**$1**')}\n\n_Checked with my tools._` };
      });
    }
    if (history && variations.envelopeHistory) {
      const list = body as Record<string, unknown>[];
      count('envelopeHistory');
      body = {
        messages: list.map((m) => (typeof m.content === 'string' ? { ...m, content: [{ type: 'text', text: { value: m.content, annotations: [] } }] } : m)),
        total: list.length,
        limit: 50,
        offset: 0,
      };
    }
    if (variations.extraFields) {
      count('extraFieldsHttp');
      if (Array.isArray(body)) body = body.map((item) => (isObject(item) ? { ...item, x_shard: 'eu-1' } : item));
      else if (isObject(body)) body = { ...body, x_request_meta: { served_by: 'contract-proxy', shard: 'eu-1' } };
    }
    return body;
  }

  // ---------------------------------------------------------------------------------------
  // WebSocket

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    coldStart().then(() => proxyUpgrade(req, socket, head)).catch(() => socket.destroy());
    socket.on('error', () => socket.destroy());
  });

  function proxyUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
    const headers: Record<string, string> = {};
    if (req.headers.authorization) headers.authorization = req.headers.authorization;
    const target = `${upstream.protocol === 'https:' ? 'wss' : 'ws'}://${upstream.host}${req.url ?? '/ws'}`;
    const up = new WebSocket(target, offered, { headers, maxPayload: 64 * 1024 * 1024 });
    const early: { data: RawData; isBinary: boolean }[] = [];
    let client: WebSocket | undefined;
    let upClosed: { code: number; reason: Buffer } | undefined;
    up.on('message', (data, isBinary) => (client ? relay(data, isBinary) : early.push({ data, isBinary })));
    up.on('unexpected-response', (_request, response) => {
      readBody(response).then((body) => {
        const lines = [`HTTP/1.1 ${response.statusCode} ${response.statusMessage ?? ''}`];
        for (const [name, value] of Object.entries(response.headers)) {
          if (name === 'transfer-encoding' || name === 'connection' || name === 'content-length' || value === undefined) continue;
          lines.push(`${name}: ${Array.isArray(value) ? value.join(', ') : value}`);
        }
        lines.push(`content-length: ${body.length}`, 'connection: close', '', '');
        socket.end(Buffer.concat([Buffer.from(lines.join('\r\n')), body]));
      }).catch(() => socket.destroy());
    });
    up.on('error', () => {
      if (!client) socket.destroy();
      else client.terminate();
    });
    up.on('close', (code, reason) => {
      upClosed = { code, reason };
      if (client) closeClient(client, code, reason);
    });

    let state: ConnectionState | undefined;
    const relay = (data: RawData, isBinary: boolean): void => {
      if (!client || !state) return;
      if (isBinary) return state.send(data as Buffer, true);
      const text = data.toString();
      let frame: unknown;
      try {
        frame = JSON.parse(text);
      } catch {
        return state.send(text, false);
      }
      if (!isObject(frame) || typeof frame.type !== 'string') return state.send(text, false);
      for (const out of transform(state, frame as Frame)) state.send(JSON.stringify(out), false);
    };

    up.on('open', () => {
      chosenProtocol.set(req, up.protocol);
      wss.handleUpgrade(req, socket, head, (ws) => {
        client = ws;
        state = connectionState(ws);
        ws.on('message', (data, isBinary) => {
          if (!isBinary) noteClientFrame(state!, data.toString());
          if (up.readyState === WebSocket.OPEN) up.send(data, { binary: isBinary });
        });
        ws.on('close', (code) => {
          state?.stop();
          if (up.readyState === WebSocket.OPEN || up.readyState === WebSocket.CONNECTING) up.close(code >= 1000 && code < 5000 && code !== 1005 && code !== 1006 ? code : 1000);
        });
        ws.on('error', () => up.terminate());
        for (const { data, isBinary } of early.splice(0)) relay(data, isBinary);
        if (upClosed) closeClient(ws, upClosed.code, upClosed.reason);
      });
    });
  }

  // Echo the subprotocol the platform chose (or none).
  const chosenProtocol = new WeakMap<IncomingMessage, string>();
  wss.options.handleProtocols = (_protocols, req) => chosenProtocol.get(req) || false;

  function closeClient(ws: WebSocket, code: number, reason: Buffer): void {
    const flush = (): void => {
      if (code === 1006) ws.terminate();
      else if (code === 1005) ws.close();
      else ws.close(code, reason);
    };
    // Let queued frames (delayed by eventGapMs) go first.
    const state = states.get(ws);
    if (state) void state.drained().then(flush);
    else flush();
  }

  interface RunState {
    agent?: string;
    threadId?: string | null;
    started: boolean;
    subAgentDone: boolean;
    tools: Frame[];
    progress: number;
  }

  interface ConnectionState {
    ws: WebSocket;
    runs: Map<string, RunState>;
    /** thread_ids of the client's start_agent/user_message, in order, not yet matched to a run. */
    pendingThreads: (string | null)[];
    send(data: string | Buffer, binary: boolean): void;
    drained(): Promise<void>;
    stop(): void;
  }
  const states = new WeakMap<WebSocket, ConnectionState>();

  function connectionState(ws: WebSocket): ConnectionState {
    let chain: Promise<void> = Promise.resolve();
    let lastRunEventAt = 0;
    const timers: NodeJS.Timeout[] = [];
    const state: ConnectionState = {
      ws,
      runs: new Map(),
      pendingThreads: [],
      send: (data, binary) => {
        const gap = variations.eventGapMs ?? 0;
        const isRunEvent = !binary && gap > 0 && typeof data === 'string' && data.includes('"run_id"');
        chain = chain.then(async () => {
          if (isRunEvent) {
            const wait = lastRunEventAt + gap - Date.now();
            if (wait > 0) {
              count('eventGap');
              await sleep(wait);
            }
            lastRunEventAt = Date.now();
          }
          if (ws.readyState === WebSocket.OPEN) ws.send(data, { binary });
        });
      },
      drained: () => chain,
      stop: () => timers.forEach((t) => clearInterval(t)),
    };
    if (variations.pingsMs) {
      timers.push(setInterval(() => {
        if (ws.readyState !== WebSocket.OPEN) return;
        ws.ping();
        count('ping');
        // A heartbeat frame while a run of this connection is active.
        if ([...state.runs.values()].some((run) => run.started)) {
          count('heartbeatDuringRun');
          state.send(JSON.stringify({ type: 'heartbeat', timestamp: new Date().toISOString() }), false);
        }
      }, variations.pingsMs));
    }
    states.set(ws, state);
    return state;
  }

  function noteClientFrame(state: ConnectionState, text: string): void {
    try {
      const frame = JSON.parse(text) as { type?: unknown; payload?: { thread_id?: unknown } };
      if (frame.type === 'start_agent' || frame.type === 'user_message') {
        const thread = frame.payload?.thread_id;
        state.pendingThreads.push(typeof thread === 'string' ? thread : null);
      }
    } catch {
      // malformed on purpose (a test of the server's answer): nothing to note
    }
  }

  const now = (): string => new Date().toISOString();

  /** The frames to send for one upstream frame. */
  function transform(state: ConnectionState, frame: Frame): Frame[] {
    const runId = typeof frame.run_id === 'string' ? frame.run_id : undefined;
    let out: Frame[] = [frame];
    if (runId !== undefined && AGENT_EVENTS.has(frame.type)) {
      let run = state.runs.get(runId);
      if (!run) {
        run = { started: false, subAgentDone: false, tools: [], progress: 0 };
        state.runs.set(runId, run);
      }
      out = agentFrames(state, run, runId, frame);
      if (frame.type === 'agent_completed' || frame.type === 'agent_error') state.runs.delete(runId);
    }
    if (variations.extraFields) {
      out = out.map((f) => ({ ...f, x_trace: { hop: 'contract-proxy', id: randomUUID().slice(0, 8) }, server_region: 'eu-west' }));
      count('extraFieldsWs');
    }
    if (variations.wrap) out = out.map((f) => wrapFrame(f, variations.wrap!));
    return out;
  }

  function agentFrames(state: ConnectionState, run: RunState, runId: string, frame: Frame): Frame[] {
    const out: Frame[] = [];
    const base = { run_id: runId, timestamp: now() };
    if (frame.type === 'agent_started') {
      run.started = true;
      run.agent = typeof frame.agent_name === 'string' ? frame.agent_name : undefined;
      run.threadId = typeof frame.thread_id === 'string' ? frame.thread_id : null;
      state.pendingThreads.shift();
    }
    if (frame.type === 'agent_error' && !run.started && variations.refusalAfterStarted) {
      const threadId = state.pendingThreads.shift() ?? null;
      count('refusalAfterStarted');
      out.push({ type: 'agent_started', ...base, thread_id: threadId, agent_name: 'supervisor_agent', task_description: 'refused request' });
    }
    if (variations.extraEvents && (frame.type === 'tool_executing' || frame.type === 'agent_completed')) {
      run.progress += 1;
      count('extraEvents');
      out.push({ type: 'agent_progress', ...base, message: `step ${run.progress}`, step: run.progress, total_steps: run.progress + 1 });
      out.push({ type: 'status_update', ...base, status: 'working' });
      if (frame.type === 'agent_completed') {
        out.push({ type: 'agent_thinking', ...base, reasoning: 'Checking the answer once more before replying.' });
        out.push({ type: 'partial_result', ...base, content: String(frame.final_response ?? '').slice(0, 12) });
      }
    }
    if (variations.oneTool && (frame.type === 'tool_executing' || frame.type === 'tool_completed')) {
      run.tools.push(frame);
      return out;
    }
    if (variations.oneTool && (frame.type === 'agent_completed' || frame.type === 'agent_error') && run.tools.length > 0) {
      out.push(...onePair(run.tools));
    }
    if (variations.failureAsError && frame.type === 'agent_completed' && variations.failureAsError.test(String(frame.final_response ?? ''))) {
      count('failureAsError');
      const { final_response: _answer, status: _status, ...rest } = frame;
      out.push({ ...rest, type: 'agent_error', error_code: 'TOOL_EXECUTION_FAILED', message: `the calculator could not compute the request: ${String(frame.final_response)}` });
      return out;
    }
    out.push(frame);
    if (variations.subAgents && frame.type === 'agent_thinking' && !run.subAgentDone) {
      run.subAgentDone = true;
      count('subAgents');
      const sub = { ...base, agent_name: SUB_AGENT };
      const executionId = `sub-${randomUUID()}`;
      out.push(
        { type: 'agent_started', ...sub, thread_id: run.threadId ?? null, task_description: 'look up background facts' },
        { type: 'agent_thinking', ...sub, reasoning: 'Searching my notes for relevant facts.' },
        { type: 'tool_executing', ...sub, tool_name: 'notes_search', tool_args: { query: 'background' }, execution_id: executionId },
        { type: 'tool_completed', ...sub, tool_name: 'notes_search', execution_id: executionId, results: { notes: ['nothing that changes the answer'] }, execution_time: 3, success: true },
        { type: 'agent_completed', ...sub, status: 'success', final_response: 'No background facts needed.' },
      );
    }
    return out;
  }

  /** One tool pair of a run: the last one whose tool is not a cache bookkeeping tool, else the last. */
  function onePair(tools: Frame[]): Frame[] {
    const executing = tools.filter((f) => f.type === 'tool_executing');
    const pick = [...executing].reverse().find((f) => !String(f.tool_name).startsWith('cache_')) ?? executing[executing.length - 1];
    if (!pick) return tools;
    const kept = tools.filter((f) => f.execution_id === pick.execution_id);
    if (kept.length < tools.length) count('oneTool');
    return kept;
  }

  function wrapFrame(frame: Frame, how: 'data' | 'payload'): Frame {
    count(`wrap-${how}`);
    if (how === 'payload') {
      const { type, ...rest } = frame;
      return { type, payload: rest };
    }
    const root: Frame = { type: frame.type };
    const data: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(frame)) {
      if (key === 'type') continue;
      if (AGENT_EVENTS.has(frame.type) && ROOT_KEYS.has(key)) root[key] = value;
      else if (!AGENT_EVENTS.has(frame.type) && (key === 'timestamp' || key === 'correlation_id')) root[key] = value;
      else if (key === 'tool_args') data.parameters = value;
      else if (key === 'results') data.result = value;
      else if (key === 'final_response' && frame.type === 'agent_completed') data.result = { response: value, steps: 1, tools_used: [] };
      else data[key] = value;
    }
    root.data = data;
    return root;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    stats,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
