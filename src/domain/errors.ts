/**
 * The registry of error codes: each has a stable `code`, an HTTP status and a message safe to show
 * to anyone. Routes throw `AppError`s; the HTTP layer turns them into `{ code, message, requestId }`.
 */
export const errorCodes = {
  invalid_request: { status: 400, message: 'The request is not valid.' },
  invalid_config: { status: 400, message: 'The configuration is not valid.' },
  weak_password: { status: 400, message: 'The password does not meet the rules.' },
  invalid_policy: { status: 400, message: 'The policy is not valid.' },
  unauthenticated: { status: 401, message: 'Sign in first.' },
  invalid_credentials: { status: 401, message: 'The identifier or password is not correct.' },
  invalid_factor: { status: 401, message: 'The code is not correct.' },
  flow_invalid: { status: 401, message: 'This sign-in is no longer valid; start again.' },
  reauthentication_required: { status: 401, message: 'Confirm your identity again to do this.' },
  step_up_required: { status: 401, message: 'This needs a stronger or more recent sign-in: confirm with the method asked for.' },
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

/**
 * Where a reason is seen: `details` (an error response's `details.reason`), `audit` (an audit event's
 * `data.reason`), `result` (a check's answer, such as an assertion check's `reason`), `log` (server logs only).
 */
export type ReasonPlace = 'details' | 'audit' | 'result' | 'log';

/**
 * The registry of reasons: the one vocabulary of why something was refused, for error responses'
 * `details.reason`, audit events' `data.reason` and the flow engine's verdicts. Each reason names the
 * error codes it may accompany (none when it never rides on an error) and where it is seen.
 * test/docs/error-reasons.test.ts keeps it in step with src/; docs/errors.md is generated from it.
 */
export const errorReasons = {
  // the answer was wrong
  wrong_password: { codes: ['invalid_credentials'], where: ['audit'], doc: 'The password is not correct (or the account cannot sign in); the response names no reason.' },
  wrong_current_password: { codes: ['invalid_credentials'], where: ['audit'], doc: 'A password change gave a wrong current password.' },
  wrong_code: { codes: ['invalid_factor'], where: ['details', 'audit'], doc: 'The one-time, authenticator or recovery code is not correct.' },
  wrong: { codes: ['invalid_factor'], where: ['details', 'audit'], doc: 'The first code of an authenticator enrollment is not correct.' },
  malformed: { codes: ['invalid_factor'], where: ['details', 'audit'], doc: 'The code is not in the expected form (six digits); counted as a wrong answer.' },
  wrong_pin: { codes: ['invalid_factor'], where: ['details', 'audit'], doc: 'The caller\'s PIN is not correct.' },
  wrong_answer: { codes: ['invalid_factor'], where: ['details', 'audit'], doc: 'The answer to the security question is not correct.' },
  // the answer cannot be checked
  replayed: { codes: ['invalid_credentials'], where: ['details', 'audit'], doc: 'The password step lost a race of one right password (another request of the flow took it); never counted as a failure.' },
  code_used: { codes: ['invalid_factor'], where: ['details', 'audit'], doc: 'A right code already used, staff or caller alike: a replay, or the loser of a race of one right code; never counted as a failure.' },
  code_expired: { codes: ['invalid_factor'], where: ['details', 'audit'], doc: 'The one-time code has expired; send a new one.' },
  code_exhausted: { codes: ['invalid_factor'], where: ['details', 'audit'], doc: 'The one-time code had too many wrong tries and is dead; send a new one.' },
  no_code_sent: { codes: ['invalid_factor'], where: ['details', 'audit'], doc: 'No one-time code has been sent in this verification yet.' },
  no_totp: { codes: ['invalid_factor'], where: ['details', 'audit'], doc: 'The caller has no authenticator app bound.' },
  no_pin: { codes: ['invalid_factor'], where: ['details', 'audit'], doc: 'The caller has no PIN set.' },
  not_enrolled: { codes: ['invalid_factor', 'not_found'], where: ['details', 'audit'], doc: 'No (active or pending) authenticator enrollment to check the code against.' },
  no_question_asked: { codes: ['flow_state'], where: ['details', 'audit'], doc: 'An answer came before a security question was asked; not counted.' },
  no_questions_left: { codes: ['flow_state'], where: ['details'], doc: 'Every security question of the caller has been asked.' },
  enrollment_not_started: { codes: ['flow_state'], where: ['details', 'audit'], doc: 'A sign-in enrollment step came before its enrollment was started.' },
  method_not_allowed: { codes: ['invalid_request'], where: ['details', 'audit'], doc: 'The method is not available to this account under the policy.' },
  account_unusable: { codes: ['flow_invalid'], where: ['details', 'audit'], doc: 'The account of the sign-in is gone or no longer active.' },
  // security keys and passkeys (WebAuthn)
  wrong_origin: { codes: ['invalid_factor'], where: ['details', 'audit'], doc: 'The security key answered a page of another origin than the allowed ones (a phishing site, or a misconfigured origin).' },
  wrong_rp_id: { codes: ['invalid_factor'], where: ['details', 'audit'], doc: 'The security key signed for another relying party ID.' },
  wrong_challenge: { codes: ['invalid_factor'], where: ['details', 'audit'], doc: 'The answer signs a challenge other than the one this flow holds (another flow\'s, or an old one).' },
  invalid_assertion: { codes: ['invalid_factor'], where: ['details', 'audit'], doc: 'The security key\'s answer does not verify (unknown credential, bad signature, malformed); the same reason for each, so credential IDs say nothing.' },
  uv_required: { codes: ['invalid_factor'], where: ['details', 'audit'], doc: 'The key did not verify its user (PIN or biometrics) where that is required (passwordless sign-in, or policy).' },
  counter_regression: { codes: ['invalid_factor'], where: ['details', 'audit'], doc: 'The key\'s signature counter went backwards: it may have been cloned. Refused, and the credential is flagged.' },
  credential_suspended: { codes: ['invalid_factor'], where: ['details', 'audit'], doc: 'The security key was suspended by an administrator.' },
  no_challenge: { codes: ['invalid_factor'], where: ['details', 'audit'], doc: 'No security-key challenge is open on this flow (ask for the options first; each challenge serves one answer); not counted.' },
  challenge_expired: { codes: ['invalid_factor'], where: ['details', 'audit'], doc: 'The security-key challenge expired (300 s by default); ask for new options; not counted.' },
  metadata_refused: { codes: ['invalid_request'], where: ['details'], doc: 'The FIDO metadata BLOB does not chain to the configured MDS root, or its signature or payload is wrong (details.problem).' },
  metadata_not_newer: { codes: ['conflict'], where: ['details'], doc: 'The FIDO metadata BLOB is not newer than the one uploaded before.' },
  model_not_allowed: { codes: ['invalid_factor'], where: ['details', 'audit'], doc: "The security key's model (AAGUID) is not on the organization's allow-list." },
  attestation_required: { codes: ['invalid_factor'], where: ['details', 'audit'], doc: 'The organization allows only some key models: the key must prove its model with a full attestation (the browser may have removed it).' },
  passwordless_off: { codes: ['invalid_request'], where: ['details'], doc: 'The organization does not allow passwordless sign-in with passkeys.' },
  webauthn_unavailable: { codes: ['invalid_request'], where: ['details'], doc: 'Security keys are not configured on this server (CALLWARDEN_WEBAUTHN_RP_ID and CALLWARDEN_PUBLIC_URL).' },
  // step-up
  assurance_too_low: { codes: ['step_up_required'], where: ['details'], doc: 'The session\'s assurance level is below what the action needs (details.need.aal).' },
  not_phishing_resistant: { codes: ['step_up_required'], where: ['details'], doc: 'The action needs a phishing-resistant method (a security key or passkey) in this session.' },
  auth_too_old: { codes: ['step_up_required'], where: ['details'], doc: 'The session\'s last authentication is older than the action allows (details.need.maxAgeSeconds).' },
  step_up_unavailable: { codes: ['conflict'], where: ['details'], doc: 'None of the account\'s methods can give what the action needs (enroll a security key, or an authenticator app, first).' },
  // the method or the flow refuses any answer
  throttled: { codes: ['too_many_attempts'], where: ['details', 'audit'], doc: 'Back-off after failures, or another check in flight: wait retryAfterSeconds.' },
  locked: { codes: ['too_many_attempts'], where: ['details', 'audit'], doc: 'The method is locked for a while after failures (PCI lockout): wait retryAfterSeconds.' },
  disabled: { codes: ['factor_locked'], where: ['details', 'audit'], doc: 'The method has failed too many times in a row and is locked until an administrator resets it.' },
  flow_budget_spent: { codes: ['flow_failed'], where: ['details', 'audit'], doc: 'The flow\'s attempt budget is spent (a sign-in or a caller\'s verification alike); it has failed.' },
  flow_expired: { codes: ['flow_expired'], where: ['details', 'audit'], doc: 'The flow expired.' },
  flow_state: { codes: ['flow_state'], where: ['details', 'audit'], doc: 'The flow is not at a step that takes this (for example already completed).' },
  // sending codes
  resend_cooldown: { codes: ['too_many_attempts'], where: ['details', 'audit'], doc: 'A code was sent moments ago: wait retryAfterSeconds before another.' },
  destination_limit: { codes: ['rate_limited'], where: ['details', 'audit'], doc: 'Too many codes sent to this destination in ten minutes.' },
  agent_limit: { codes: ['rate_limited'], where: ['details', 'audit'], doc: 'Too many codes sent by this agent in a minute (alerted).' },
  tenant_limit: { codes: ['rate_limited'], where: ['details', 'audit'], doc: 'Too many codes sent in this tenant in a minute (alerted).' },
  contact_recently_changed: { codes: ['contact_recently_changed'], where: ['audit'], doc: 'The contact was changed recently and cannot receive codes (the code says it).' },
  // elsewhere
  interaction_mismatch: { codes: [], where: ['result'], doc: 'The assertion is valid but for another call (interaction) than the one named.' },
  'unknown signing key': { codes: [], where: ['result'], doc: 'The assertion is signed with a key this server does not know (other failures give jose\'s error code).' },
  invalid: { codes: [], where: ['result'], doc: 'The assertion could not be verified, for no more precise reason.' },
  already_pending: { codes: ['conflict'], where: ['details'], doc: 'A factor reset for this user is already waiting for approval.' },
  ambiguous_number: { codes: ['conflict'], where: ['details'], doc: 'Several customers have the calling number on file.' },
  bad_signature: { codes: ['forbidden'], where: ['details', 'log'], doc: 'A webhook\'s signature is not valid.' },
  not_configured: { codes: [], where: ['log'], doc: 'A webhook came while its signing secret is not configured (answered as bad_signature).' },
  too_many_streams: { codes: ['rate_limited'], where: ['details'], doc: 'Too many live views are open for this user.' },
  delivery_in_progress: { codes: ['unavailable'], where: ['details'], doc: 'The same webhook delivery is still being handled.' },
  repeated_delivery: { codes: [], where: ['log'], doc: 'A webhook delivery already handled, answered from its receipt.' },
  expired: { codes: [], where: ['log'], doc: 'An outgoing message expired before it could be sent.' },
  mac_missing: { codes: [], where: ['result'], doc: 'Audit verification: the row carries no MAC.' },
  mac_key_unknown: { codes: [], where: ['result'], doc: 'Audit verification: the row\'s MAC key id is not configured.' },
  mac_invalid: { codes: [], where: ['result'], doc: 'Audit verification: the row\'s MAC does not verify.' },
  nonce_copied: { codes: [], where: ['result'], doc: 'Audit verification: the row repeats the MAC nonce of an earlier row (a copied row).' },
  'changed recently': { codes: [], where: ['result'], doc: 'An available method\'s contact is not eligible for codes: it was changed recently.' },
} as const satisfies Record<string, { codes: readonly ErrorCode[]; where: readonly ReasonPlace[]; doc: string }>;

export type ErrorReason = keyof typeof errorReasons;

/** The codes a reason may accompany. */
export type ReasonCode<R extends ErrorReason> = (typeof errorReasons)[R]['codes'][number];

export const isErrorReason = (x: unknown): x is ErrorReason => typeof x === 'string' && Object.hasOwn(errorReasons, x);

/** An `AppError` with a registered reason, for a code the reason may accompany (checked by the compiler). */
export function reasonError<R extends ErrorReason>(code: ReasonCode<R>, reason: R, detail?: Record<string, unknown>, message?: string): AppError {
  return new AppError(code, { ...detail, reason }, message);
}
