/**
 * Knowledge methods for callers: the PIN (keyed as DTMF digits) and security questions, both engine
 * steps (src/methods/pin, src/methods/question). Each has a failure counter per customer across
 * verifications, so a caller cannot reset the count by calling again. Questions are asked from the
 * customer's set; after a wrong answer another question is asked (the fallback); they never satisfy
 * a level alone.
 */
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
  const now = s.clock();
  const ceremony = c.flow.ceremony[QUESTION_SLOT];
  const asked = s.methods.get('question')!.challenge!({ flow: c.flow, policy: s.engine.policy(c), now, ceremony, loaded: c.loaded, params: {} });
  const shown = asked.show as { questionId: string; question: string; fallback: boolean };
  // the same question again until it is answered: nothing to write
  if (shown.questionId === questionSlot(ceremony).askedId) return shown;
  if (!(await writeChallenge(s.store.db, { flowId: c.flow.id, states: ['pending'], setSlots: { [QUESTION_SLOT]: asked.ceremony }, events: [], now }))) {
    throw new AppError('flow_state', { state: 'over' }, 'This verification is already over.');
  }
  return shown;
}

export function answerQuestion(s: Services, a: { tenantId: string; id: string; answer: string; actor: Actor; origin: Origin }) {
  return verificationStep(s, { ...a, method: s.methods.get('question')!, answer: { answer: a.answer } });
}
