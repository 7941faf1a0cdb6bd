/** argon2id hashing (@node-rs/argon2, runs off the event loop) with configured parameters. */
import { hash, verify } from '@node-rs/argon2';

/** @node-rs/argon2's Algorithm.Argon2id (a const enum, so spelled out here). */
const ARGON2ID = 2;

export interface Argon2Params {
  memoryKib: number;
  iterations: number;
  parallelism: number;
}

export class PasswordHasher {
  #dummy: Promise<string>;
  constructor(readonly params: Argon2Params) {
    // A real hash of a random value: unknown users are checked against it, so they cost the same time.
    this.#dummy = this.hash(crypto.randomUUID());
  }

  hash(password: string): Promise<string> {
    return hash(password, {
      algorithm: ARGON2ID,
      memoryCost: this.params.memoryKib,
      timeCost: this.params.iterations,
      parallelism: this.params.parallelism,
    });
  }

  /** Verifies; with a null hash it verifies against the dummy and returns false (same timing). */
  async verify(stored: string | null, password: string): Promise<boolean> {
    if (stored === null) {
      await verify(await this.#dummy, password).catch(() => false);
      return false;
    }
    return verify(stored, password).catch(() => false);
  }
}
