/**
 * The one way the console talks to the server: same-origin JSON with the session cookie. Errors
 * become ApiError with the server's stable code and safe message; the UI shows words, never JSON.
 * A sensitive action answered `step_up_required` goes to the step-up handler (a dialog asking for
 * what is missing, components/auth/StepUpProvider.tsx) and, once given, is sent once more.
 */
import { describeError } from './errors';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
  /** A sentence for people (the error code's wording, with the retry time when there is one). */
  get words(): string {
    return describeError(this);
  }
}

export interface RequestOptions {
  body?: unknown;
  flowToken?: string;
  signal?: AbortSignal;
  /** false: a `step_up_required` answer is thrown as is (no step-up dialog, no retry). */
  stepUp?: boolean;
}

/** Called when any request answers 401 for a signed-in console (session ended elsewhere). */
let onUnauthenticated: (() => void) | undefined;
export const setUnauthenticatedHandler = (fn: (() => void) | undefined) => void (onUnauthenticated = fn);

/**
 * Called when a request answers `step_up_required` (a sensitive action that needs a stronger or more
 * recent sign-in): resolves once the session has what was asked (the request is then sent once
 * more), rejects when the user cancels or cannot give it.
 */
export type StepUpHandler = (error: ApiError, request: { method: string; path: string }) => Promise<void>;
let onStepUp: StepUpHandler | undefined;
export const setStepUpHandler = (fn: StepUpHandler | undefined) => void (onStepUp = fn);

export const isStepUpRequired = (e: unknown): e is ApiError => e instanceof ApiError && e.status === 401 && e.code === 'step_up_required';

export async function request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
  try {
    return await send<T>(method, path, o);
  } catch (e) {
    // sign-in flow steps (flow token) never step up: they are the way to give what is asked
    if (!isStepUpRequired(e) || !onStepUp || o.stepUp === false || o.flowToken) throw e;
    await onStepUp(e, { method, path });
    if (o.signal?.aborted) throw new DOMException('The request was aborted.', 'AbortError');
    return send<T>(method, path, o);
  }
}

async function send<T>(method: string, path: string, o: RequestOptions): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  if (o.flowToken) headers['x-flow-token'] = o.flowToken;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', body: o.body === undefined ? undefined : JSON.stringify(o.body), signal: o.signal });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'The server could not be reached.');
  }
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const d = (data ?? {}) as { code?: string; message?: string; details?: Record<string, unknown> };
    const retry = Number(res.headers.get('retry-after'));
    const err = new ApiError(res.status, d.code ?? 'http_' + res.status, d.message ?? res.statusText, d.details, Number.isFinite(retry) && retry > 0 ? retry : undefined);
    // only 'unauthenticated' means the session is gone; other 401s (reauthentication_required, a wrong
    // current password) are answers to this request
    if (res.status === 401 && err.code === 'unauthenticated' && onUnauthenticated) onUnauthenticated();
    throw err;
  }
  return data as T;
}

export const api = {
  get: <T>(path: string, o?: RequestOptions) => request<T>('GET', path, o),
  post: <T>(path: string, body: unknown = {}, o?: RequestOptions) => request<T>('POST', path, { ...o, body }),
  put: <T>(path: string, body: unknown, o?: RequestOptions) => request<T>('PUT', path, { ...o, body }),
  patch: <T>(path: string, body: unknown, o?: RequestOptions) => request<T>('PATCH', path, { ...o, body }),
  del: <T>(path: string, o?: RequestOptions) => request<T>('DELETE', path, o),
};

/** Encodes a path segment (tenant slugs, ids). */
export const seg = (v: string) => encodeURIComponent(v);
