/**
 * One failure shape for the whole suite, so the reporter can say *what* broke and *where*
 * without parsing messages. Every helper throws a CheckError (or a subclass) for target
 * misbehaviour; plain Errors mean a harness bug and are reported as INCONCLUSIVE.
 */

/** Which part of the platform misbehaved: the one list (tags, blame, reports use it). */
export const COMPONENTS = ['backend', 'auth', 'websocket', 'agent', 'postgres', 'redis', 'network'] as const;
export type Component = (typeof COMPONENTS)[number];

export function isComponent(name: string): name is Component {
  return (COMPONENTS as readonly string[]).includes(name);
}

/** Where along the path it misbehaved. */
export type Layer =
  | 'config'
  | 'dns'
  | 'tcp'
  | 'tls'
  | 'http-status'
  | 'ws-handshake'
  | 'ws-close'
  | 'frame'
  | 'ordering'
  | 'budget'
  | 'content'
  | 'protocol';

export interface CheckErrorDetails {
  component: Component;
  layer: Layer;
  /** The endpoint, URL (secrets stripped) or store the failing step talked to. */
  endpoint?: string;
  /** Low-level code when there is one: ECONNREFUSED, ENOTFOUND, HTTP status, WS close code. */
  code?: string | number;
  /** Correlation id returned by the target, when it sent one. */
  correlationId?: string;
  /** Milliseconds spent before the failure was detected. */
  elapsedMs?: number;
  /** Anything else worth showing as evidence (small, JSON-serialisable, no secrets). */
  evidence?: Record<string, unknown>;
}

export class CheckError extends Error {
  readonly details: CheckErrorDetails;

  constructor(message: string, details: CheckErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CheckError';
    this.details = details;
  }
}

export function isCheckError(error: unknown): error is CheckError {
  return error instanceof CheckError;
}

/**
 * The readable message of anything thrown. Some clients (undici, AggregateError from
 * happy-eyeballs connects) throw an empty message with the real cause inside `errors`.
 */
export function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const inner = (error as { errors?: unknown }).errors;
    if (error.message === '' && Array.isArray(inner) && inner[0] instanceof Error) return inner[0].message;
    return error.message;
  }
  return String(error);
}
