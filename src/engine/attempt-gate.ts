/**
 * The attempt gate for checks outside a flow (a password change's current password, a customer's
 * authenticator enrollment): the same counters and judgment as flow steps (./gate.ts), over the
 * counter repository. `enter` registers the check in flight and judges it; a refused check is
 * released at once (it never counts); after the check, `failed` or `succeeded`.
 */
import type { LockoutRules } from '../domain/policy.js';
import type { CounterRepo } from '../storage/repositories/counters.js';
import { judge, lockAfterFailure, type GateVerdict } from './gate.js';

export class AttemptGate {
  constructor(private readonly counters: CounterRepo) {}

  async enter(subject: string, rules: LockoutRules, now: Date): Promise<GateVerdict> {
    const verdict = judge(await this.counters.claim(subject, now), rules, now);
    if (!verdict.allowed) await this.counters.release(subject);
    return verdict;
  }

  succeeded(subject: string): Promise<void> {
    return this.counters.reset(subject);
  }

  async failed(subject: string, verdict: GateVerdict, rules: LockoutRules, now: Date): Promise<void> {
    await this.counters.recordFailure(subject, now, lockAfterFailure(verdict.failuresBefore, rules, now));
  }
}
