/**
 * HTTP client for the backend and auth service (undici), with per-request phase timings and
 * transport failures classified by layer.
 *
 * `request()` never throws for an HTTP status: the caller asserts with `expectStatus` (helpers/contract/http-checks.ts).
 * It throws a {@link CheckError} (component = the client's component) for a transport failure:
 *
 * | what happened                                        | layer         | code                                  |
 * |------------------------------------------------------|---------------|---------------------------------------|
 * | name does not resolve                                | `dns`         | ENOTFOUND / EAI_AGAIN / ...           |
 * | DNS lookup still pending at the deadline             | `dns`         | DNS_TIMEOUT                           |
 * | refused / reset / unreachable                        | `tcp`         | ECONNREFUSED / ECONNRESET / EHOSTUNREACH / ... |
 * | TCP connect still pending at the deadline            | `tcp`         | CONNECT_TIMEOUT                       |
 * | peer closed the connection before a full response   | `tcp`         | SOCKET_CLOSED                         |
 * | certificate / handshake error                        | `tls`         | the OpenSSL/Node code, e.g. DEPTH_ZERO_SELF_SIGNED_CERT, CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID |
 * | TLS handshake still pending at the deadline          | `tls`         | TLS_HANDSHAKE_TIMEOUT                 |
 * | request sent, no response headers by the deadline    | `http-status` | HEADERS_TIMEOUT                       |
 * | headers received, body incomplete by the deadline    | `http-status` | BODY_TIMEOUT                          |
 * | the bytes received are not HTTP                      | `protocol`    | HPE_... when llhttp names it, else HTTP_PARSE_ERROR |
 * | `expectJson` and a 2xx body is not JSON              | `content`     | INVALID_JSON                          |
 *
 * Timeout scheme: one deadline per request, `timeoutMs` (default: the client's `defaultTimeoutMs`)
 * covering everything from the call to the last body byte; when it passes the request is aborted and
 * the error names the phase it was stuck in (table above). New connections additionally have the
 * client's connect timeout (`connectTimeoutMs`, default `defaultTimeoutMs`) covering DNS + TCP + TLS.
 *
 * Timings (ms, `performance.now()` based):
 * - `dnsMs`, `connectMs` (TCP), `tlsMs`: durations of the connection phases of the connection this
 *   request was sent on; all 0 and `reusedConnection: true` for a kept-alive connection. `dnsMs` is 0
 *   for an IP literal.
 * - `firstByteMs`: from the call until response headers were received (includes the phases above,
 *   like curl's time_starttransfer). `waitMs`: from request headers written to response headers.
 * - `totalMs`: from the call until the body was fully read.
 */
import { CheckError, messageOf } from '../core/errors.ts';
import { errorCode, layerOfNetworkCode, TIMEOUT_CODES } from '../core/network-errors.ts';
import { Agent, requestOn } from './undici-parts.ts';
import { connDurations, dispatchWithCtx, installChannels, PHASE, timedConnector, timeoutCodeForPhase, type ConnectTls, type ConnPhase, type ConnTiming, type RequestCtx } from './http-timing.ts';
import { redactSecrets, redactUrl } from '../core/redact.ts';
import { certProblemError, certProblemOf, hostPortOf } from '../core/tls-problems.ts';
import { endpointTemplate, recordRequest } from '../core/request-log.ts';
import { honourRetryAfter, type RateLimitInfo } from './rate-limit.ts';
import { componentWatch, downError, suspicionAfterMs, type DownState } from './component-watch.ts';
import { bodyForEvidence, findCorrelationId, headerRecord, joinUrl, rememberSecrets, SECRET_HEADERS, truncate } from './http-response.ts';
import type { HttpClient, HttpClientOptions, HttpMethod, HttpResult, HttpTimings, RequestOptions } from './http-types.ts';

export type { HttpClient, HttpClientOptions, HttpMethod, HttpResult, HttpTimings, RequestOptions } from './http-types.ts';
export { bodyForEvidence } from './http-response.ts';


export function createHttpClient(options: HttpClientOptions): HttpClient {
  installChannels();
  const baseUrl = options.baseUrl;
  // Validate early: a bad base URL is a config error, not a target failure.
  new URL(baseUrl);
  const inFlight = new Set<ConnTiming>();
  const agent = new Agent({
    connect: timedConnector({ timeout: options.connectTimeoutMs ?? options.defaultTimeoutMs, tls: options.tls }, inFlight),
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 4000,
    // The per-request deadline below decides; undici's own headers/body timers are off.
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  const component = options.component;
  // The confirmation probe is the component's GET /health, bounded above the cold-start allowance.
  const failFast = options.failFast;
  const watch = failFast
    ? componentWatch(component, baseUrl, async () => void (await requestOnce('GET', '/health', { timeoutMs: failFast.probeTimeoutMs })), failFast)
    : undefined;

  /**
   * One request, with a 429's Retry-After honoured once within the budget (transport/rate-limit.ts);
   * refused at once while the component is confirmed down, and a transport failure judged by the probe.
   */
  async function request(method: string, path: string, requestOptions: RequestOptions = {}): Promise<HttpResult> {
    if (!watch) return requestAnswered(method, path, requestOptions);
    const endpoint = `${method} ${redactUrl(joinUrl(baseUrl, path).toString())}`;
    watch.gate(endpoint);
    try {
      return await requestAnswered(method, path, requestOptions);
    } catch (error) {
      throw await watch.judge(error, endpoint);
    }
  }

  function deadlineOf(path: string, requestOptions: RequestOptions): number {
    return requestOptions.timeoutMs ?? options.timeoutFor?.(path) ?? options.defaultTimeoutMs;
  }

  async function requestAnswered(method: string, path: string, requestOptions: RequestOptions): Promise<HttpResult> {
    const firstStarted = performance.now();
    const timeoutMs = deadlineOf(path, requestOptions);
    const remainingMs = requestOptions.budget
      ? () => requestOptions.budget!.remainingMs()
      : () => timeoutMs - (performance.now() - firstStarted);
    const { answer, rateLimited } = await honourRetryAfter((retryTimeoutMs) => requestOnce(method, path, retryTimeoutMs === undefined ? requestOptions : { ...requestOptions, timeoutMs: Math.min(timeoutMs, retryTimeoutMs) }), {
      endpoint: `${method} ${redactUrl(joinUrl(baseUrl, path).toString())}`,
      component,
      remainingMs,
      evidenceBody: (result) => bodyForEvidence(result),
    });
    if (rateLimited) answer.rateLimited = rateLimited;
    return answer;
  }

  async function requestOnce(method: string, path: string, requestOptions: RequestOptions): Promise<HttpResult> {
    const url = joinUrl(baseUrl, path);
    const shownUrl = redactUrl(url.toString());
    const endpoint = `${method} ${shownUrl}`;
    const timeoutMs = deadlineOf(path, requestOptions);
    const headers: Record<string, string> = { accept: 'application/json', ...(requestOptions.headers ?? {}) };
    const secrets: string[] = [];
    for (const [name, value] of Object.entries(headers)) {
      if (SECRET_HEADERS.test(name)) secrets.push(value, value.replace(/^Bearer\s+/i, ''));
    }
    if (requestOptions.auth !== undefined && requestOptions.auth !== false) {
      let token: string;
      if (typeof requestOptions.auth === 'string') {
        token = requestOptions.auth;
      } else {
        if (options.getToken === undefined) throw new Error(`${endpoint}: auth requested but the ${component} client has no getToken`);
        token = await options.getToken();
      }
      headers.authorization = `Bearer ${token}`;
      secrets.push(token);
    }
    let body: string | Uint8Array | undefined;
    if (requestOptions.body !== undefined) {
      if (typeof requestOptions.body === 'string' || requestOptions.body instanceof Uint8Array) {
        body = requestOptions.body;
      } else {
        body = JSON.stringify(requestOptions.body);
        if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
      }
    }

    const ctx: RequestCtx = {};
    const started = performance.now();
    let headersAt: number | undefined;
    let timedOutIn: ConnPhase | 'headers' | 'body' | undefined;
    const controller = new AbortController();
    // undici does not always reject at once when a request still waiting for its connection is
    // aborted, so the deadline is also raced explicitly: the caller hears about it on time.
    let rejectAtDeadline: (reason: unknown) => void = () => {};
    const deadline = new Promise<never>((_, reject) => {
      rejectAtDeadline = reject;
    });
    deadline.catch(() => {});
    const originKey = `${url.protocol}//${url.hostname.replace(/^\[|\]$/g, '')}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
    /** The phase the request is stuck in now. */
    const stuckIn = (): ConnPhase | 'headers' | 'body' => {
      if (headersAt !== undefined) return 'body';
      if (ctx.sentAt !== undefined) return 'headers';
      // Not written yet: stuck establishing a connection. Name the phase of the oldest connection
      // attempt to this origin still in flight.
      let oldest: ConnTiming | undefined;
      for (const conn of inFlight) {
        if (conn.origin === originKey && (oldest === undefined || conn.startedAt < oldest.startedAt)) oldest = conn;
      }
      return oldest?.phase ?? 'tcp';
    };
    const timer = setTimeout(() => {
      timedOutIn = stuckIn();
      const reason = new Error(`stagecheck deadline of ${timeoutMs} ms`);
      controller.abort(reason);
      rejectAtDeadline(reason);
    }, timeoutMs);
    // A request still unanswered after half the probe's bound raises the suspicion early: the probe
    // runs beside it, and if the component does not answer the probe either, this request and every
    // other one are cut short now rather than at their deadlines. A slow answer costs one probe.
    const suspectAfterMs = failFast ? suspicionAfterMs(failFast) : undefined;
    const suspicion = watch && suspectAfterMs !== undefined && suspectAfterMs < timeoutMs
      ? setTimeout(() => {
          const { layer, code, stuck } = timeoutCodeForPhase(stuckIn());
          void watch.judge(new CheckError(`${endpoint}: ${stuck} within ${suspectAfterMs} ms (${code})`, { component, layer, endpoint, code }), endpoint, performance.timeOrigin + started);
        }, suspectAfterMs)
      : undefined;

    // Cut short when the component is confirmed down meanwhile (by this worker or another).
    let cutShortBy: DownState | undefined;
    const stopWatching = watch?.onDown((down) => {
      cutShortBy = down;
      controller.abort(new Error(`${component} is down`));
      rejectAtDeadline(new Error(`${component} is down`));
    });

    const fail = (error: unknown): never => {
      if (cutShortBy) throw downError(cutShortBy, endpoint, error);
      const elapsedMs = performance.now() - started;
      const timingsSoFar = { ...connDurations(ctx.conn), reusedConnection: ctx.reused ?? false, elapsedMs };
      if (timedOutIn !== undefined) {
        const { layer, code, stuck } = timeoutCodeForPhase(timedOutIn);
        throw new CheckError(
          `${endpoint}: ${stuck} within ${timeoutMs} ms (${code})`,
          { component, layer, endpoint, code, elapsedMs, evidence: { timeoutMs, stuck, timings: timingsSoFar } },
          { cause: error },
        );
      }
      const rawCode = (error as { code?: unknown } | null)?.code;
      const undiciCode = typeof rawCode === 'string' ? rawCode : undefined;
      const code = errorCode(error);
      const phase = (error as Record<symbol, unknown> | null)?.[PHASE] as ConnPhase | undefined;
      let layer: 'dns' | 'tcp' | 'tls' | 'http-status' | 'protocol' | undefined;
      let shownCode: string | undefined = code;
      if (undiciCode === 'UND_ERR_CONNECT_TIMEOUT') {
        const t = timeoutCodeForPhase(phase ?? 'tcp');
        layer = t.layer;
        shownCode = t.code;
      } else if (undiciCode === 'UND_ERR_HEADERS_TIMEOUT') {
        layer = 'http-status';
        shownCode = TIMEOUT_CODES.headers;
      } else if (undiciCode === 'UND_ERR_BODY_TIMEOUT') {
        layer = 'http-status';
        shownCode = TIMEOUT_CODES.body;
      } else if (undiciCode === 'UND_ERR_SOCKET' && (code === undefined || code === 'UND_ERR_SOCKET')) {
        layer = phase === 'tls' ? 'tls' : 'tcp';
        shownCode = 'SOCKET_CLOSED';
      } else if (code !== undefined && layerOfNetworkCode(code) !== undefined) {
        layer = layerOfNetworkCode(code);
        // A reset during the handshake is a TLS-layer failure.
        if (layer === 'tcp' && phase === 'tls') layer = 'tls';
      } else if ((error as Error | null)?.name === 'HTTPParserError' || (code !== undefined && code.startsWith('HPE_'))) {
        layer = 'protocol';
        shownCode = code ?? 'HTTP_PARSE_ERROR';
      } else if (undiciCode === 'UND_ERR_INFO' || undiciCode === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
        layer = 'protocol';
        shownCode = undiciCode;
      } else if (phase !== undefined && phase !== 'done') {
        layer = phase;
      } else if (error !== null && typeof error === 'object' && 'syscall' in error) {
        layer = 'tcp';
      }
      if (layer === undefined) throw error; // not a target failure we recognise: a harness bug
      const cert = layer === 'tls' ? certProblemOf(code) : undefined;
      // One cause for every request refused by the same certificate (core/tls-problems.ts).
      if (cert) throw certProblemError({ problem: cert, hostPort: hostPortOf(url), nodeCode: code!, endpoint, elapsedMs, evidence: { timings: timingsSoFar }, cause: error });
      throw new CheckError(
        `${endpoint}: ${layer} failure ${shownCode ?? ''}: ${redactSecrets(messageOf(error), secrets)}`.replace(/ {2,}/g, ' '),
        { component, layer, endpoint, code: shownCode, elapsedMs, evidence: { error: redactSecrets(messageOf(error), secrets), timings: timingsSoFar } },
        { cause: error },
      );
    };

    try {
      const responsePromise = dispatchWithCtx(ctx, () =>
        requestOn(agent, {
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: method as HttpMethod,
          headers,
          body,
          signal: controller.signal,
        }),
      );
      let response: Awaited<typeof responsePromise>;
      try {
        responsePromise.catch(() => {}); // may settle after the deadline already decided
        response = await Promise.race([responsePromise, deadline]);
      } catch (error) {
        return fail(error);
      }
      headersAt = performance.now();
      watch?.answered();
      let text: string;
      try {
        const textPromise = response.body.text();
        textPromise.catch(() => {});
        text = await Promise.race([textPromise, deadline]);
      } catch (error) {
        return fail(error);
      }
      const ended = performance.now();
      // Let undici mark the socket idle before the caller's next request, so back-to-back requests
      // reuse the kept-alive connection instead of opening a second one.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const responseHeaders = headerRecord(response.headers);
      const contentType = responseHeaders['content-type'] ?? '';
      let json: unknown;
      let jsonError: unknown;
      if (text !== '' && (requestOptions.expectJson === true || /\bjson\b/i.test(contentType))) {
        try {
          json = JSON.parse(text);
        } catch (error) {
          jsonError = error;
        }
      }
      const durations = connDurations(ctx.reused === true ? undefined : ctx.conn);
      const timings: HttpTimings = {
        ...durations,
        firstByteMs: headersAt - started,
        waitMs: ctx.sentAt !== undefined ? headersAt - ctx.sentAt : headersAt - started,
        totalMs: ended - started,
        reusedConnection: ctx.reused ?? false,
      };
      // Every answered request feeds the per-endpoint latency and the component's cold start.
      recordRequest({ component, endpoint: endpointTemplate(method, path), startedAt: performance.timeOrigin + started, ms: timings.totalMs, status: response.statusCode });
      const result: HttpResult = {
        method,
        url: shownUrl,
        component,
        status: response.statusCode,
        headers: responseHeaders,
        body: text,
        json,
        correlationId: findCorrelationId(responseHeaders, json),
        timings,
      };
      rememberSecrets(result, secrets);
      const is2xx = response.statusCode >= 200 && response.statusCode < 300;
      if (requestOptions.expectJson === true && is2xx && (json === undefined || jsonError !== undefined)) {
        throw new CheckError(`${endpoint}: expected a JSON body, got ${text === '' ? 'an empty body' : `non-JSON (${contentType || 'no content-type'})`}`, {
          component,
          layer: 'content',
          endpoint,
          code: 'INVALID_JSON',
          correlationId: result.correlationId,
          elapsedMs: timings.totalMs,
          evidence: { status: result.status, contentType, body: truncate(redactSecrets(text, secrets)), parseError: jsonError instanceof Error ? jsonError.message : undefined },
        });
      }
      return result;
    } finally {
      clearTimeout(timer);
      clearTimeout(suspicion);
      stopWatching?.();
    }
  }

  return {
    baseUrl,
    component,
    request,
    close: () => agent.close(),
  };
}
