/**
 * The HTTP client's shapes: its options, a request's options, and what a request returns
 * (http.ts builds them; checks in helpers/contract read them).
 */
import type { ConnectTls } from './http-timing.ts';
import type { RateLimitInfo } from './rate-limit.ts';
import type { FailFastOptions } from './component-watch.ts';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

export interface HttpClientOptions {
  baseUrl: string;
  component: 'backend' | 'auth';
  /** Whole-request deadline used when a request gives no `timeoutMs` and `timeoutFor` has none. */
  defaultTimeoutMs: number;
  /** The deadline by class of endpoint (core/endpoint-classes.ts httpBudgetFor), given the request's path. */
  timeoutFor?: (path: string) => number;
  /** Deadline for establishing a new connection (DNS + TCP + TLS). Default: `defaultTimeoutMs`. */
  connectTimeoutMs?: number;
  /** Supplies the bearer token for `auth: true` requests. */
  getToken?: () => Promise<string>;
  /** Extra TLS options for new connections (e.g. a private CA for staging). */
  tls?: ConnectTls;
  /** Keep-alive idle time for pooled connections (default 4000 ms, undici's default). */
  keepAliveTimeoutMs?: number;
  /** Fail fast once the component is confirmed down (transport/component-watch.ts); off when absent. */
  failFast?: FailFastOptions;
}

export interface RequestOptions {
  /** A string or Uint8Array is sent as is; anything else is JSON-encoded with content-type JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** `true`: `Authorization: Bearer <getToken()>`; a string: that token. */
  auth?: boolean | string;
  timeoutMs?: number;
  /** Throw a `content` CheckError when a 2xx body is not valid JSON (non-2xx is left to expectStatus). */
  expectJson?: boolean;
  /**
   * What a 429's `Retry-After` wait must fit in (e.g. the test step's Budget). Default: the
   * request's own timeout, counted from its first attempt (transport/rate-limit.ts).
   */
  budget?: { remainingMs(): number };
}

export interface HttpTimings {
  dnsMs: number;
  connectMs: number;
  tlsMs: number;
  firstByteMs: number;
  /** Request headers written → response headers received (server time + one round trip). */
  waitMs: number;
  totalMs: number;
  reusedConnection: boolean;
}

export interface HttpResult {
  method: string;
  /** Full URL with credentials and secret query values stripped. */
  url: string;
  /** Component of the client that made the request. */
  component: 'backend' | 'auth';
  status: number;
  /** Lower-cased names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  body: string;
  /** Parsed body when it is JSON (by content-type or expectJson), else undefined. */
  json: unknown;
  /** `x-correlation-id` header, else a `correlation_id` / `correlationId` body field. */
  correlationId?: string;
  timings: HttpTimings;
  /** Set when a 429's Retry-After was honoured once: this is the retry's answer. */
  rateLimited?: RateLimitInfo;
}

export interface HttpClient {
  readonly baseUrl: string;
  readonly component: 'backend' | 'auth';
  request(method: HttpMethod | string, path: string, options?: RequestOptions): Promise<HttpResult>;
  /** Close pooled connections. */
  close(): Promise<void>;
}
