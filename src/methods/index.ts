/**
 * The methods this server registers. Adding a method is adding its folder here and one line below
 * (docs/architecture.md walks through it).
 */
import type { Aead } from '../crypto/aead.js';
import type { PasswordHasher } from '../crypto/password-hash.js';
import { MethodRegistry } from '../engine/registry.js';
import type { CredentialRepo } from '../storage/repositories/credentials.js';
import { otpMethods } from './otp/index.js';
import { passwordMethod } from './password/index.js';
import { pinMethod } from './pin/index.js';
import { questionMethod } from './question/index.js';
import { recoveryCodeMethod } from './recovery-code/index.js';
import { totpMethod } from './totp/index.js';
import { webauthnMethod, type RelyingParty } from './webauthn/index.js';
import { registrationMethod } from './webauthn/registration.js';

/** The order of registration is the order methods are offered in (codes to on-file contacts first, for callers). */
export function registerMethods(deps: { aead: Aead; hasher: PasswordHasher; credentials?: CredentialRepo; rp?: RelyingParty }) {
  const rp = deps.rp ?? { rpId: '', origins: [] };
  const password = passwordMethod(deps);
  const totp = totpMethod(deps);
  const registry = new MethodRegistry().register(password);
  for (const m of otpMethods(deps)) registry.register(m);
  registry
    .register(totp)
    .register(webauthnMethod({ aead: deps.aead, rp }))
    .register(recoveryCodeMethod({ pepper: deps.aead.derive('recovery-codes') }))
    .register(pinMethod(deps))
    .register(questionMethod(deps));
  return { registry, password, totpEnrollment: totp.enrollment, keyRegistration: registrationMethod({ aead: deps.aead, rp }), rp };
}
