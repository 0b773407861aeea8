import http from 'node:http';
import type https from 'node:https';
import { newId } from '../util/ids.ts';
import type { Logger } from '../util/log.ts';
import { isStoreUnavailable } from '../util/store-errors.ts';
import { errorMessage } from '../util/time.ts';

const MAX_BODY_BYTES = 1024 * 1024;
const CORRELATION_HEADER = 'x-correlation-id';

/** A failure with its HTTP answer; anything else thrown by a handler becomes a 500. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
  }
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RequestContext {
  req: http.IncomingMessage;
  url: URL;
  params: Record<string, string>;
  correlationId: string;
  /** Parses the JSON body; 422 when malformed. With `optional`, an empty body is `{}`. */
  readJson(options?: { optional?: boolean }): Promise<unknown>;
  /** The token of an `Authorization: Bearer` header, if any. */
  bearerToken(): string | undefined;
}

export type Handler = (context: RequestContext) => Promise<Reply> | Reply;

export interface Route {
  method: string;
  /** `/api/threads/:id` style; parameters are single path segments. */
  path: string;
  handler: Handler;
}

interface CompiledRoute extends Route {
  pattern: RegExp;
  names: string[];
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { ...route, pattern: new RegExp(`^${source}/?$`), names };
}

export function errorBody(code: string, message: string): Record<string, string> {
  // `detail` mirrors FastAPI, which real deployments of the platform use.
  return { error: code, message, detail: message };
}

/** Echo a sane inbound correlation id, else mint one: every response carries it. */
export function correlationIdOf(req: http.IncomingMessage): string {
  const given = req.headers[CORRELATION_HEADER];
  const value = Array.isArray(given) ? given[0] : given;
  return value && /^[\x21-\x7e]{1,128}$/.test(value) ? value : newId();
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'payload_too_large', `request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function bearerOf(req: http.IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

export function sendJson(res: http.ServerResponse, reply: Reply, correlationId: string): void {
  if (res.headersSent) return;
  const headers: Record<string, string> = { [CORRELATION_HEADER]: correlationId, 'cache-control': 'no-store', ...reply.headers };
  if (reply.status === 204 || reply.body === undefined) {
    res.writeHead(reply.status, headers).end();
    return;
  }
  const payload = JSON.stringify(reply.body);
  res.writeHead(reply.status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(payload)) });
  res.end(payload);
}

/** Routes a request to its handler; 404/405 for the rest; never lets a handler error escape. */
export function createRequestListener(routes: Route[], log: Logger, service: string): http.RequestListener {
  const compiled = routes.map(compile);
  return (req, res) => {
    const correlationId = correlationIdOf(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let pathMatched = false;
    let chosen: { route: CompiledRoute; params: Record<string, string> } | undefined;
    for (const route of compiled) {
      const match = route.pattern.exec(url.pathname);
      if (!match) continue;
      pathMatched = true;
      if (route.method !== req.method) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, index) => {
        params[name] = decodeURIComponent(match[index + 1] ?? '');
      });
      chosen = { route, params };
      break;
    }
    if (!chosen) {
      req.resume();
      sendJson(res, pathMatched
        ? { status: 405, body: errorBody('method_not_allowed', `${req.method} not allowed on ${url.pathname}`) }
        : { status: 404, body: errorBody('not_found', `no route for ${req.method} ${url.pathname}`) }, correlationId);
      return;
    }
    const context: RequestContext = {
      req,
      url,
      params: chosen.params,
      correlationId,
      bearerToken: () => bearerOf(req),
      readJson: async (options) => {
        const text = await readBody(req);
        if (!text.trim()) {
          if (options?.optional) return {};
          throw new HttpError(422, 'invalid_body', 'request body must be a JSON object');
        }
        try {
          return JSON.parse(text) as unknown;
        } catch (error) {
          throw new HttpError(422, 'invalid_json', `request body is not valid JSON: ${errorMessage(error)}`);
        }
      },
    };
    const route = chosen.route;
    Promise.resolve()
      .then(() => route.handler(context))
      .then(
        (reply) => sendJson(res, reply, correlationId),
        (error: unknown) => {
          if (error instanceof HttpError) {
            sendJson(res, { status: error.status, body: errorBody(error.code, error.message) }, correlationId);
            return;
          }
          if (isStoreUnavailable(error)) {
            log.debug(`${service} ${req.method} ${url.pathname}: store unavailable [${correlationId}]: ${errorMessage(error)}`);
            sendJson(res, { status: 503, body: errorBody('service_unavailable', `a backing store is unavailable: ${errorMessage(error)}`) }, correlationId);
            return;
          }
          log.warn(`${service} ${req.method} ${url.pathname} failed [${correlationId}]: ${errorMessage(error)}`);
          sendJson(res, { status: 500, body: errorBody('internal_error', errorMessage(error)) }, correlationId);
        },
      );
  };
}

/** Loopback-only HTTP server on an OS-assigned port (no port race for our own listeners). */
export async function listenHttp(server: http.Server | https.Server): Promise<number> {
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('HTTP server has no address');
  return address.port;
}

export async function closeHttp(server: http.Server | https.Server): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}
