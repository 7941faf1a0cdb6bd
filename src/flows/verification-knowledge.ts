/**
 * Knowledge methods for callers: the PIN (keyed as DTMF digits) and security questions, both engine
 * steps (src/methods/pin, src/methods/question). Each has a failure counter per customer across
 * verifications, so a caller cannot reset the count by calling again. Questions are asked from the
 * customer's set; after a wrong answer another question is asked (the fallback); they never satisfy
 * a level alone.
 */
import { randomInt } from 'node:crypto';
import { AppError } from '../domain/errors.js';
import { QUESTION_SLOT, questionSlot } from '../methods/question/index.js';
import type { Origin, Services } from '../services/context.js';
import { writeChallenge } from '../storage/repositories/flow-records.js';
import { rethrowing, verificationStep, type Actor, type StepGuard, type StepObserver } from './verification.js';

export function checkPin(s: Services, a: { tenantId: string; id: string; pin: string; actor: Actor; origin: Origin; observe?: StepObserver; guard?: StepGuard }) {
  return verificationStep(s, { ...a, method: s.methods.get('pin')!, answer: { pin: a.pin } });
}

/** Picks a question the caller has not failed in this verification; the same one until answered. */
export async function askQuestion(s: Services, a: { tenantId: string; id: string }) {
  const c = await rethrowing(s.engine.read({ flowId: a.id, tenantId: a.tenantId, states: ['pending'], kindNeeds: ['questions'] }), 'other');
  const slot = questionSlot(c.flow.ceremony[QUESTION_SLOT]);
  const questions = c.loaded.questions ?? [];
  const fallback = slot.failed.length > 0;
  const asked = questions.find((q) => q.id === slot.askedId);
  if (asked) return { questionId: asked.id, question: asked.question, fallback };
  const left = questions.filter((q) => !slot.failed.includes(q.id));
  if (left.length === 0) throw new AppError('flow_state', { reason: 'no_questions_left' }, 'No security question is left to ask.');
  const q = left[randomInt(left.length)]!;
  if (!(await writeChallenge(s.store.db, { flowId: c.flow.id, states: ['pending'], setSlots: { [QUESTION_SLOT]: { ...slot, askedId: q.id } }, events: [], now: s.clock() }))) {
    throw new AppError('flow_state', { state: 'over' }, 'This verification is already over.');
  }
  return { questionId: q.id, question: q.question, fallback };
}

export function answerQuestion(s: Services, a: { tenantId: string; id: string; answer: string; actor: Actor; origin: Origin }) {
  return verificationStep(s, { ...a, method: s.methods.get('question')!, answer: { answer: a.answer } });
}
