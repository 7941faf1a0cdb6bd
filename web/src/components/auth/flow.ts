/**
 * The sign-in flow API as the console uses it (sign-in and re-authentication share it). The flow
 * token lives only in the caller's memory (React state), never in storage or the URL.
 */
import { api, seg } from '../../lib/api';
import { askKey, type Assertion, type RequestOptions } from './webauthn';

/** `passkey`: a passwordless sign-in waiting for the passkey's answer. */
export type FlowState = 'password' | 'passkey' | 'second_factor' | 'enroll' | 'completed' | 'failed' | 'expired';

export interface FlowOption {
  method: string;
  label: string;
}

export interface FlowView {
  id: string;
  kind: 'signin' | 'reauth';
  state: FlowState;
  expiresAt: string;
  attemptsLeft: number;
  requiredAal: number;
  completedMethods: string[];
  options?: FlowOption[];
  enroll?: string[];
}

export interface TotpEnrollment {
  factorId: string;
  secret: string;
  otpauthUri: string;
  qrSvg: string;
}

export interface StepResult {
  flow: FlowView;
  flowToken?: string;
  session?: { id: string; aal: number; methods: string[]; expiresAt: string; enrollmentDue?: boolean };
  recoveryCodes?: string[];
  enrollment?: Partial<TotpEnrollment>;
}

/** A passwordless flow as POST /v1/auth/passkey answers it: state `passkey`, its token and challenge. */
export type PasskeyStart = StepResult & { flowToken: string; options: RequestOptions };

const at = (id: string, step = '') => `/v1/auth/flows/${seg(id)}${step}`;

export const flowApi = {
  start: (tenant: string, identifier: string) => api.post<StepResult>('/v1/auth/flows', { tenant, identifier }),
  password: (id: string, flowToken: string, password: string) => api.post<StepResult>(at(id, '/password'), { password }, { flowToken }),
  factor: (id: string, flowToken: string, method: string, code: string) => api.post<StepResult>(at(id, '/factor'), { method, code }, { flowToken }),
  beginEnrollment: (id: string, flowToken: string) => api.post<StepResult>(at(id, '/enroll/totp'), {}, { flowToken }),
  confirmEnrollment: (id: string, flowToken: string, code: string) => api.post<StepResult>(at(id, '/enroll/totp/confirm'), { code }, { flowToken }),
  /** A new security-key challenge for this flow (second factor or passkey). */
  keyOptions: (id: string, flowToken: string) => api.post<{ options: RequestOptions }>(at(id, '/webauthn/options'), {}, { flowToken }),
  /** The key's (or passkey's) answer. */
  key: (id: string, flowToken: string, credential: Assertion) => api.post<StepResult>(at(id, '/webauthn'), { credential }, { flowToken }),
  /** A passwordless sign-in: a flow in state `passkey` with its challenge (no key named). */
  passkey: (tenant: string, signal?: AbortSignal) => api.post<PasskeyStart>('/v1/auth/passkey', { tenant }, { signal }),
};

/** The enrollment's display fields, when the server sent all of them. */
export function totpEnrollment(r: StepResult): TotpEnrollment | undefined {
  const e = r.enrollment;
  if (!e || typeof e.secret !== 'string' || typeof e.qrSvg !== 'string' || typeof e.factorId !== 'string') return undefined;
  return { factorId: e.factorId, secret: e.secret, qrSvg: e.qrSvg, otpauthUri: typeof e.otpauthUri === 'string' ? e.otpauthUri : '' };
}

/** The security-key step of a flow: a fresh challenge, the browser's prompt, the answer. */
export async function answerWithKey(id: string, flowToken: string): Promise<StepResult> {
  const { options } = await flowApi.keyOptions(id, flowToken);
  return flowApi.key(id, flowToken, await askKey(options));
}
