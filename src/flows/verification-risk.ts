/**
 * An explainable caller risk score: each signal adds points and says why. Inputs come from the
 * telephony side (ANI, STIR/SHAKEN attestation) and from Callwarden's own records (on-file phones,
 * recent contact changes, verification velocity, failed attempts). Score 0-100; at or above the
 * policy's `stepUpAtScore` the flow needs the policy's high level.
 */
export interface RiskInput {
  callerAni: string | null;
  attestation: 'A' | 'B' | 'C' | null;
  onFilePhones: string[];
  /** On-file contacts changed within the policy window. */
  recentlyChangedContacts: number;
  verificationsForCustomerLastHour: number;
  verificationsFromAniLastHour: number;
  failedAttempts: number;
}

export interface RiskSignal {
  signal: 'ani_match' | 'attestation' | 'recent_contact_change' | 'customer_velocity' | 'ani_velocity' | 'failed_attempts';
  points: number;
  detail: string;
}

export interface Risk {
  score: number;
  level: 'low' | 'medium' | 'high';
  signals: RiskSignal[];
}

export function assessRisk(r: RiskInput): Risk {
  const signals: RiskSignal[] = [];
  if (r.callerAni === null) signals.push({ signal: 'ani_match', points: 10, detail: 'caller number withheld or not passed' });
  else if (r.onFilePhones.includes(r.callerAni)) signals.push({ signal: 'ani_match', points: 0, detail: 'caller number matches an on-file phone' });
  else signals.push({ signal: 'ani_match', points: 20, detail: 'caller number is not on file' });

  const att = { A: [0, 'full attestation (A)'], B: [10, 'partial attestation (B)'], C: [25, 'gateway attestation (C)'] } as const;
  if (r.attestation) signals.push({ signal: 'attestation', points: att[r.attestation][0], detail: `STIR/SHAKEN ${att[r.attestation][1]}` });
  else signals.push({ signal: 'attestation', points: 10, detail: 'no STIR/SHAKEN attestation' });

  if (r.recentlyChangedContacts > 0) signals.push({ signal: 'recent_contact_change', points: 30, detail: `${r.recentlyChangedContacts} contact(s) changed recently` });
  if (r.verificationsForCustomerLastHour > 3) signals.push({ signal: 'customer_velocity', points: 20, detail: `${r.verificationsForCustomerLastHour} verifications for this customer in the last hour` });
  if (r.verificationsFromAniLastHour > 5) signals.push({ signal: 'ani_velocity', points: 20, detail: `${r.verificationsFromAniLastHour} verifications from this number in the last hour` });

  return withFailedAttempts({ score: 0, level: 'low', signals }, r.failedAttempts);
}

/** The risk as of now: the stored assessment plus the failed attempts made since the start. */
export function withFailedAttempts(r: Risk, failedAttempts: number): Risk {
  const signals = r.signals.filter((x) => x.signal !== 'failed_attempts');
  if (failedAttempts > 0) signals.push({ signal: 'failed_attempts', points: Math.min(30, 10 * failedAttempts), detail: `${failedAttempts} failed attempt(s)` });
  const score = Math.min(100, signals.reduce((a, x) => a + x.points, 0));
  return { score, level: score >= 50 ? 'high' : score >= 25 ? 'medium' : 'low', signals };
}
