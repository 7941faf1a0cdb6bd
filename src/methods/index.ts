/**
 * The methods this server registers. Adding a method is adding its folder here and one line below
 * (docs/architecture.md walks through it).
 */
import type { Aead } from '../crypto/aead.js';
import type { PasswordHasher } from '../crypto/password-hash.js';
import { MethodRegistry } from '../engine/registry.js';
import { otpMethods } from './otp/index.js';
import { passwordMethod } from './password/index.js';
import { pinMethod } from './pin/index.js';
import { questionMethod } from './question/index.js';
import { recoveryCodeMethod } from './recovery-code/index.js';
import { totpMethod } from './totp/index.js';

export function registerMethods(deps: { aead: Aead; hasher: PasswordHasher }) {
  const password = passwordMethod(deps);
  const registry = new MethodRegistry()
    .register(password)
    .register(totpMethod(deps))
    .register(recoveryCodeMethod({ pepper: deps.aead.derive('recovery-codes') }))
    .register(pinMethod(deps))
    .register(questionMethod(deps));
  for (const m of otpMethods(deps)) registry.register(m);
  return { registry, password };
}
