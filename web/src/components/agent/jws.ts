/** Reads (never verifies) the header and claims of a verification assertion, to show its details. */

export interface AssertionDetails {
  kid?: string;
  alg?: string;
  iat?: number;
  exp?: number;
  jti?: string;
  iss?: string;
  amr?: string[];
  level?: string;
  interactionId?: string;
}

function part(s: string | undefined): Record<string, unknown> {
  if (!s) return {};
  try {
    const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)))) as Record<string, unknown>;
  } catch {
    return {};
  }
}

export function readAssertion(jws: string): AssertionDetails {
  const [h, p] = jws.split('.');
  const header = part(h);
  const claims = part(p);
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  return {
    kid: str(header.kid),
    alg: str(header.alg),
    iat: num(claims.iat),
    exp: num(claims.exp),
    jti: str(claims.jti),
    iss: str(claims.iss),
    amr: Array.isArray(claims.amr) ? claims.amr.filter((x): x is string => typeof x === 'string') : undefined,
    level: str(claims.level),
    interactionId: str(claims.interaction_id),
  };
}
