/**
 * What a delivery provider is (SMTP, an SMS/voice API, a webhook) and how its failures are classified:
 * retryable (network trouble, timeouts, HTTP 5xx, 408, 429) or permanent (any other 4xx, a refusal).
 * Error messages carry a status or a provider error code, never the message body: they are stored in
 * delivery_events and logged.
 */

export type Channel = 'email' | 'sms' | 'voice';

/** One outbox message as a provider sees it. `id` is stable across retries (usable for de-duplication). */
export interface OutgoingMessage {
  id: string;
  channel: Channel;
  recipient: string;
  subject: string;
  body: string;
  locale: string;
}

export interface Provider {
  readonly name: string;
  readonly channels: readonly Channel[];
  send(msg: OutgoingMessage): Promise<{ providerMessageId: string }>;
  /** Releases connections (SMTP pool); optional. */
  close?(): void | Promise<void>;
}

export type FailureKind = 'retryable' | 'permanent';

export class DeliveryError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** HTTP status of a failed provider call -> retry later or give up. */
export function classifyHttpStatus(status: number): FailureKind {
  return status >= 500 || status === 429 || status === 408 ? 'retryable' : 'permanent';
}

/** Any thrown value -> a DeliveryError (unknown errors are treated as retryable). */
export function toDeliveryError(err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const e = err as { name?: string; code?: string; message?: string } | undefined;
  return new DeliveryError('retryable', `unexpected error${e?.code ? ` ${e.code}` : e?.name ? ` ${e.name}` : ''}`);
}

/** Shortens a reason and removes the body (and subject) should a provider have echoed it back. */
export function safeReason(reason: string, msg: Pick<OutgoingMessage, 'body' | 'subject'>): string {
  let r = reason;
  for (const secret of [msg.body, msg.subject]) if (secret && secret.length >= 4) r = r.split(secret).join('[redacted]');
  return r.replace(/[\r\n]+/g, ' ').slice(0, 300);
}

export const HTTP_TIMEOUT_MS = 10_000;

export interface HttpResult {
  status: number;
  json: unknown;
}

/**
 * One provider HTTP call with a timeout. Network errors and timeouts throw a retryable DeliveryError;
 * a non-2xx answer throws a DeliveryError classified by its status, with `detail(json)` (a provider
 * error code) in the reason. Redirects are not followed (credentials stay with the configured host).
 */
export async function httpCall(
  label: string,
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string },
  opts: { timeoutMs?: number; detail?: (json: unknown) => string | undefined } = {},
): Promise<HttpResult> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(opts.timeoutMs ?? HTTP_TIMEOUT_MS) });
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') throw new DeliveryError('retryable', `${label}: timed out`);
    throw new DeliveryError('retryable', `${label}: network error${e.cause?.code ? ` ${e.cause.code}` : ''}`);
  }
  let text = '';
  try {
    text = await res.text();
  } catch {
    if (res.ok) throw new DeliveryError('retryable', `${label}: response interrupted`);
  }
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: only the status counts */
  }
  if (res.status >= 300 && res.status < 400) throw new DeliveryError('permanent', `${label}: unexpected redirect (HTTP ${res.status})`, res.status);
  if (!res.ok) {
    const detail = opts.detail?.(json);
    throw new DeliveryError(classifyHttpStatus(res.status), `${label}: HTTP ${res.status}${detail ? ` (${detail})` : ''}`, res.status);
  }
  return { status: res.status, json };
}

/** A short printable token from a provider's error field (codes, not free text). */
export function codeOf(v: unknown): string | undefined {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string' && /^[\w.-]{1,40}$/.test(v)) return v;
  return undefined;
}
