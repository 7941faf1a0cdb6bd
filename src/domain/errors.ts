/**
 * The registry of error codes: each has a stable `code`, an HTTP status and a message safe to show
 * to anyone. Routes throw `AppError`s; the HTTP layer turns them into `{ code, message, requestId }`.
 */
export const errorCodes = {
  invalid_request: { status: 400, message: 'The request is not valid.' },
  invalid_config: { status: 400, message: 'The configuration is not valid.' },
  weak_password: { status: 400, message: 'The password does not meet the rules.' },
  invalid_policy: { status: 400, message: 'The policy is not valid.' },
  invalid_code: { status: 400, message: 'The code is not valid.' },
  unauthenticated: { status: 401, message: 'Sign in first.' },
  invalid_credentials: { status: 401, message: 'The identifier or password is not correct.' },
  invalid_factor: { status: 401, message: 'The code is not correct.' },
  flow_invalid: { status: 401, message: 'This sign-in is no longer valid; start again.' },
  reauthentication_required: { status: 401, message: 'Confirm your identity again to do this.' },
  forbidden: { status: 403, message: 'You are not allowed to do this.' },
  not_found: { status: 404, message: 'Not found.' },
  conflict: { status: 409, message: 'The request conflicts with the current state.' },
  already_exists: { status: 409, message: 'It already exists.' },
  flow_state: { status: 409, message: 'This step is not expected now.' },
  contact_recently_changed: { status: 409, message: 'This contact was changed recently and cannot receive codes.' },
  flow_expired: { status: 410, message: 'This sign-in expired; start again.' },
  invitation_invalid: { status: 410, message: 'This setup link is not valid or has expired.' },
  payload_too_large: { status: 413, message: 'The request body is too large.' },
  unsupported_media_type: { status: 415, message: 'Send JSON.' },
  factor_locked: { status: 423, message: 'Too many failed attempts; this method is locked. Ask an administrator to reset it.' },
  flow_failed: { status: 429, message: 'Too many failed attempts in this sign-in; start again.' },
  too_many_attempts: { status: 429, message: 'Too many attempts; wait and try again.' },
  rate_limited: { status: 429, message: 'Too many requests; wait and try again.' },
  internal: { status: 500, message: 'Something went wrong on our side.' },
  unavailable: { status: 503, message: 'The service is not available right now.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCodes;

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    /** Safe extra detail shown to the caller (never secrets). */
    readonly detail?: Record<string, unknown>,
    message?: string,
  ) {
    super(message ?? errorCodes[code].message);
    this.status = errorCodes[code].status;
  }
}

export const fail = (code: ErrorCode, detail?: Record<string, unknown>, message?: string): never => {
  throw new AppError(code, detail, message);
};
