/**
 * Knowledge factors for callers: the PIN (keyed as DTMF digits) and security questions. Each has a
 * failure counter per customer across verifications (the same attempt gate as staff factors), so a
 * caller cannot reset the count by calling again. Questions are asked from the customer's set; after
 * a wrong answer another question is asked (the fallback); they never satisfy a level alone.
 */
import { randomInt } from 'node:crypto';
import { normalizeAnswer } from '../customers/fields.js';
import { knowledgeInput } from '../customers/knowledge-secret.js';
import { AppError } from '../domain/errors.js';
import { lockoutRules } from '../domain/policy.js';
import type { Origin, Services } from '../services/context.js';
import { currentPolicy } from '../services/policies.js';
import { gateError } from './flow-errors.js';
import { claimVerificationAttempt, completeMethod, stepEvent, verificationState, type Actor } from './verification.js';

export const customerFactorSubject = (customerId: string, kind: string) => `c:${customerId}:${kind}`;

export async function checkPin(s: Services, a: { tenantId: string; id: string; pin: string; actor: Actor; origin: Origin }) {
  const v = await claimVerificationAttempt(s, { ...a, method: 'pin' });
  const now = s.clock();
  const rules = lockoutRules((await currentPolicy(s, a.tenantId)).policy);
  const subject = customerFactorSubject(v.customer_id, 'pin');
  const verdict = await s.gate.enter(subject, rules, now);
  if (!verdict.allowed) {
    await stepEvent(s, v, { ...a, method: 'pin' }, 'failure', { reason: verdict.reason });
    throw gateError(verdict);
  }
  const digits = a.pin.replace(/[\s#*]/g, '');
  const hash = await s.store.customers.pinHash(v.customer_id);
  const ok = /^\d{4,8}$/.test(digits) && (await s.hasher.verify(hash, knowledgeInput(s, 'pin', digits)));
  if (!ok) {
    await s.gate.failed(subject, verdict, rules, now);
    await stepEvent(s, v, { ...a, method: 'pin' }, 'failure', { reason: hash ? 'wrong_pin' : 'no_pin' });
    throw new AppError('invalid_code', { attemptsLeft: Math.max(0, v.attempts_left), state: v.attempts_left <= 0 ? 'failed' : 'pending' }, 'The PIN is not correct.');
  }
  await s.gate.succeeded(subject);
  return completeMethod(s, v, { ...a, method: 'pin' });
}

/** Picks a question the caller has not failed in this verification; the same one until answered. */
export async function askQuestion(s: Services, a: { tenantId: string; id: string }) {
  const now = s.clock();
  const v = await s.store.verifications.byId(a.tenantId, a.id);
  if (!v) throw new AppError('not_found');
  if (verificationState(v, now) !== 'pending') throw new AppError('flow_state', { state: verificationState(v, now) }, 'This verification is already over.');
  const questions = await s.store.customers.questions(v.customer_id);
  const asked = questions.find((q) => q.id === v.asked_question_id);
  if (asked) return { questionId: asked.id, question: asked.question, fallback: v.failed_question_ids.length > 0 };
  const left = questions.filter((q) => !v.failed_question_ids.includes(q.id));
  if (left.length === 0) throw new AppError('flow_state', { reason: 'no_questions_left' }, 'No security question is left to ask.');
  const q = left[randomInt(left.length)]!;
  await s.store.verifications.askQuestion(v.id, q.id);
  return { questionId: q.id, question: q.question, fallback: v.failed_question_ids.length > 0 };
}

export async function answerQuestion(s: Services, a: { tenantId: string; id: string; answer: string; actor: Actor; origin: Origin }) {
  const current = await s.store.verifications.byId(a.tenantId, a.id);
  if (current && !current.asked_question_id && verificationState(current, s.clock()) === 'pending') throw new AppError('flow_state', undefined, 'Ask a question first.');
  const v = await claimVerificationAttempt(s, { ...a, method: 'question' });
  const question = (await s.store.customers.questions(v.customer_id)).find((q) => q.id === v.asked_question_id);
  if (!question) throw new AppError('flow_state', undefined, 'Ask a question first.');
  // as for the PIN: a new call (a new verification) brings no new guesses
  const now = s.clock();
  const rules = lockoutRules((await currentPolicy(s, a.tenantId)).policy);
  const subject = customerFactorSubject(v.customer_id, 'question');
  const verdict = await s.gate.enter(subject, rules, now);
  if (!verdict.allowed) {
    await stepEvent(s, v, { ...a, method: 'question' }, 'failure', { reason: verdict.reason, questionId: question.id });
    throw gateError(verdict);
  }
  const ok = await s.hasher.verify(question.answer_hash, knowledgeInput(s, 'answer', normalizeAnswer(a.answer)));
  if (!ok) {
    await s.gate.failed(subject, verdict, rules, now);
    await s.store.verifications.askQuestion(v.id, null, question.id);
    await stepEvent(s, v, { ...a, method: 'question' }, 'failure', { reason: 'wrong_answer', questionId: question.id });
    throw new AppError('invalid_code', { attemptsLeft: Math.max(0, v.attempts_left), state: v.attempts_left <= 0 ? 'failed' : 'pending' }, 'The answer is not correct.');
  }
  await s.gate.succeeded(subject);
  return completeMethod(s, v, { ...a, method: 'question' });
}
