/**
 * The alert webhook, STAGECHECK_ALERT_WEBHOOK: an http(s) URL that receives each alert and
 * recovery as a JSON POST.
 *
 * - The URL is a secret (chat webhooks carry their token in the path or the query): it is only
 *   ever shown as `scheme://host/…`, and every delivery error is cleaned of it before it is printed.
 * - Each attempt is bounded (timeoutMs); a failed delivery (network error, timeout, 5xx, 408,
 *   429) is retried with a growing pause, then reported to the caller, which logs it. A 4xx
 *   other than 408/429 says the request itself is refused: retrying would not help.
 * - Nothing here throws at delivery: the monitor must go on whatever the receiver does.
 */
import { withinOneEdit } from '../../helpers/core/config-parsers.ts';
import { redactSecrets } from '../../helpers/core/redact.ts';

export const WEBHOOK_VARIABLE = 'STAGECHECK_ALERT_WEBHOOK';

export interface Webhook {
  url: URL;
  /** `scheme://host/…`: what output may show. */
  display: string;
}

export interface DeliveryOptions {
  attempts?: number;
  timeoutMs?: number;
  /** Pause before retry k (k = 1, 2, …): the k-th value, else the last. */
  backoffMs?: readonly number[];
}

export interface Delivery {
  ok: boolean;
  attempts: number;
  /** Why the last attempt failed, cleaned of the URL. */
  error?: string;
  status?: number;
}

export const DEFAULT_DELIVERY: Required<DeliveryOptions> = { attempts: 3, timeoutMs: 5000, backoffMs: [1000, 3000] };

/** Thrown for an unusable STAGECHECK_ALERT_WEBHOOK; the message names the variable, never the value. */
export class WebhookConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookConfigError';
    this.stack = message;
  }
}

/** `scheme://host/…` (with the port), or `scheme://host` when the URL has no path or query. */
export function displayUrl(url: URL): string {
  const bare = url.pathname === '/' && url.search === '' && url.hash === '';
  return `${url.protocol}//${url.host}${bare ? '' : '/…'}`;
}

const squash = (name: string): string => name.toUpperCase().replace(/[_-]/g, '');

/**
 * The webhook STAGECHECK_ALERT_WEBHOOK names; undefined when unset or blank. A set variable one
 * typo away from it is an error: a misspelt name would silently send no alert at all.
 */
export function webhookFromEnv(env: Record<string, string | undefined>): Webhook | undefined {
  for (const [name, value] of Object.entries(env)) {
    if (name !== WEBHOOK_VARIABLE && value?.trim() && withinOneEdit(squash(name), squash(WEBHOOK_VARIABLE))) {
      throw new WebhookConfigError(`${name} is set but the monitor reads no such variable: did you mean ${WEBHOOK_VARIABLE}?`);
    }
  }
  const raw = env[WEBHOOK_VARIABLE]?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookConfigError(`${WEBHOOK_VARIABLE} is not a URL: give the webhook's http(s) address, e.g. https://hooks.example.com/services/…`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WebhookConfigError(`${WEBHOOK_VARIABLE} must be an http:// or https:// URL (it is ${url.protocol}//…)`);
  }
  if (url.username || url.password) {
    throw new WebhookConfigError(`${WEBHOOK_VARIABLE} must not carry user:password@ (fetch refuses it): put the token in the path or query as the service documents`);
  }
  return { url, display: displayUrl(url) };
}

/** Every part of the URL that could be secret, for redaction. */
function secretsOf(url: URL): string[] {
  const parts = [url.href, url.href.replace(/\/$/, ''), `${url.host}${url.pathname}${url.search}`, url.pathname, url.search, url.search.slice(1), url.hash];
  for (const segment of url.pathname.split('/')) if (segment.length >= 6) parts.push(segment);
  for (const [, value] of url.searchParams) if (value.length >= 4) parts.push(value);
  return parts.filter((p) => p.length > 1 && p !== '/');
}

/** `text` with the webhook URL and its path and query values removed. */
export function cleanOfWebhook(text: string, webhook: Webhook): string {
  return redactSecrets(text, secretsOf(webhook.url));
}

function retriable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

function describe(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'no answer in time';
  const cause = e?.cause?.code ?? e?.cause?.message;
  return cause ? `${e?.message ?? 'error'} (${cause})` : (e?.message ?? String(error));
}

/** POSTs `body` as JSON; retries as the options say. Never throws. */
export async function deliver(webhook: Webhook, body: unknown, options: DeliveryOptions = {}): Promise<Delivery> {
  const { attempts, timeoutMs, backoffMs } = { ...DEFAULT_DELIVERY, ...options };
  const payload = JSON.stringify(body);
  let last: Delivery = { ok: false, attempts: 0 };
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    if (attempt > 1) await new Promise((wake) => setTimeout(wake, backoffMs[attempt - 2] ?? backoffMs.at(-1) ?? 0));
    try {
      const response = await fetch(webhook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'stagecheck-monitor' },
        body: payload,
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
      // The body is not needed; reading it frees the connection.
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { ok: true, attempts: attempt, status: response.status };
      last = { ok: false, attempts: attempt, status: response.status, error: `HTTP ${response.status}` };
      if (!retriable(response.status)) return last;
    } catch (error) {
      last = { ok: false, attempts: attempt, error: cleanOfWebhook(describe(error), webhook) };
    }
  }
  return last;
}
