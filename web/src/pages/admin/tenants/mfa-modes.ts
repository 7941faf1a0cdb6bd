/** The MFA switch's three positions in words. */
export const mfaModes = ['off', 'optional', 'required'] as const;
export type MfaMode = (typeof mfaModes)[number];

export const mfaModeWords: Record<MfaMode, { label: string; color: string; explain: string }> = {
  off: { label: 'Off', color: 'gray', explain: 'No second factor is asked at sign-in.' },
  optional: { label: 'Optional', color: 'blue', explain: 'Users may enroll a second factor; once enrolled, they must use it.' },
  required: { label: 'Required', color: 'green', explain: 'Everyone must use a second factor; users without one enroll at sign-in (after any grace period).' },
};

export const isMfaMode = (v: unknown): v is MfaMode => typeof v === 'string' && (mfaModes as readonly string[]).includes(v);
