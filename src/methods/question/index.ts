/**
 * Security questions (knowledge, low assurance: never enough for a level alone — the verification
 * policy says so). The question asked is held in the flow's `question` slot; after a wrong answer it
 * is marked failed and another one is asked (the fallback). Answers are normalized, peppered and
 * hashed like PINs; the failure counter is per customer, across verifications.
 */
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import type { Aead } from '../../crypto/aead.js';
import type { PasswordHasher } from '../../crypto/password-hash.js';
import { normalizeAnswer } from '../../customers/fields.js';
import { AppError } from '../../domain/errors.js';
import type { CeremonySlot, Method } from '../../engine/method.js';
import { knowledgeDigest } from '../pin/index.js';

export const questionAnswer = z.object({ answer: z.string().min(1).max(200) });
export type QuestionAnswer = z.infer<typeof questionAnswer>;
export const QUESTION_SLOT = 'question';

export interface QuestionSlot {
  askedId: string | null;
  failed: string[];
}

export const questionSlot = (c: CeremonySlot | undefined): QuestionSlot => ({ askedId: (c?.askedId as string | null | undefined) ?? null, failed: (c?.failed as string[] | undefined) ?? [] });

export function questionMethod(deps: { aead: Aead; hasher: PasswordHasher }): Method<QuestionAnswer> {
  return {
    kind: 'question',
    traits: { category: 'knowledge', aal: 1, phishingResistant: false, restricted: false, label: 'Security question' },
    subjects: ['customer'],
    answer: questionAnswer,
    counter: 'subject',
    slot: QUESTION_SLOT,
    needs: ['questions'],
    available: (f) => (f.questionCount ?? 0) > 0,
    // the question asked (the same one until it is answered), then another one the caller has not failed
    challenge({ ceremony, loaded }) {
      const slot = questionSlot(ceremony);
      const questions = loaded.questions ?? [];
      const fallback = slot.failed.length > 0;
      const asked = questions.find((q) => q.id === slot.askedId);
      const left = questions.filter((q) => !slot.failed.includes(q.id));
      const q = asked ?? left[randomInt(Math.max(1, left.length))];
      if (!q) throw new AppError('flow_state', { reason: 'no_questions_left' }, 'No security question is left to ask.');
      return { ceremony: { ...slot, askedId: q.id }, show: { questionId: q.id, question: q.question, fallback }, answerFrom: 'client' };
    },
    async verify({ answer, ceremony, loaded }) {
      const slot = questionSlot(ceremony);
      const q = loaded.questions?.find((x) => x.id === slot.askedId);
      if (!q) return { ok: false, reason: 'no_question_asked', notCounted: true };
      const ok = await deps.hasher.verify(q.answerHash, knowledgeDigest(deps.aead, 'answer', normalizeAnswer(answer.answer)));
      if (ok) return { ok: true, ceremony: { askedId: null, failed: slot.failed } };
      return { ok: false, reason: 'wrong_answer', ceremony: { askedId: null, failed: [...slot.failed, q.id] } };
    },
  };
}
