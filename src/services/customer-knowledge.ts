/**
 * Customer knowledge factors: the PIN (4-8 digits, trivial and personal PINs refused) and security
 * questions (answers normalized). Both are stored as argon2id of a peppered HMAC of the PIN digits
 * and of the normalized answer (src/customers/knowledge-secret.ts), and never leave the server. The
 * check functions only compare: attempt limits belong to the verification flow that calls them.
 */
import { knowledgeInput } from '../customers/knowledge-secret.js';
import { randomUUID } from 'node:crypto';
import { AppError } from '../domain/errors.js';
import { normalizeAnswer } from '../customers/fields.js';
import { checkPin as pinRules } from '../customers/pin-rules.js';
import { openField } from '../customers/sealing.js';
import { audit } from './audit-log.js';
import type { Origin, Services } from './context.js';
import type { Actor } from './users.js';

interface Target {
  tenantId: string;
  id: string;
}
interface Who extends Target {
  actor: Actor;
  origin: Origin;
}

export const QUESTIONS_MIN = 2;
export const QUESTIONS_MAX = 5;

async function customerOr404(s: Services, t: Target) {
  const row = await s.store.customers.byId(t.tenantId, t.id);
  if (!row) throw new AppError('not_found');
  return row;
}

export async function setPin(s: Services, a: Who & { pin: string }): Promise<void> {
  const row = await customerOr404(s, a);
  const contacts = await s.store.customers.contacts(row.id);
  const verdict = pinRules(a.pin, {
    phones: contacts.filter((c) => c.kind === 'phone').map((c) => c.value),
    dateOfBirth: row.date_of_birth ? openField(s.aead, row.id, 'date_of_birth', row.date_of_birth) : null,
    cardLast4: row.card_last4 ? openField(s.aead, row.id, 'card_last4', row.card_last4) : null,
    accountNumber: row.account_number,
  });
  if (!verdict.ok) throw new AppError('invalid_request', { field: 'pin', reasons: verdict.reasons }, `The PIN is not allowed: ${verdict.reasons.map((r) => r.message).join(' ')}`);
  const hash = await s.hasher.hash(knowledgeInput(s, 'pin', a.pin));
  await s.store.customers.setPin(row.id, hash, s.clock());
  await audit(s, { tenantId: a.tenantId, type: 'customer.pin_set', outcome: 'success', actor: a.actor, target: { type: 'customer', id: row.id }, origin: a.origin });
}

export async function setQuestions(s: Services, a: Who & { questions: Array<{ question: string; answer: string }> }): Promise<Array<{ id: string; question: string }>> {
  const row = await customerOr404(s, a);
  const qs = a.questions.map((q) => ({ question: q.question.trim().replace(/\s+/g, ' '), answer: normalizeAnswer(q.answer) }));
  const issues: Array<{ field: string; message: string }> = [];
  if (qs.length < QUESTIONS_MIN || qs.length > QUESTIONS_MAX) issues.push({ field: 'questions', message: `give ${QUESTIONS_MIN} to ${QUESTIONS_MAX} questions` });
  const seen = new Set<string>();
  qs.forEach((q, i) => {
    if (q.question.length < 5) issues.push({ field: `questions[${i}].question`, message: 'too short' });
    if (seen.has(q.question.toLowerCase())) issues.push({ field: `questions[${i}].question`, message: 'asked twice' });
    seen.add(q.question.toLowerCase());
    if (q.answer.length < 2) issues.push({ field: `questions[${i}].answer`, message: 'needs at least 2 letters or digits' });
  });
  if (issues.length) throw new AppError('invalid_request', { issues }, 'The security questions are not valid.');
  const stored = await Promise.all(qs.map(async (q) => ({ id: randomUUID(), question: q.question, answerHash: await s.hasher.hash(knowledgeInput(s, 'answer', q.answer)) })));
  await s.store.customers.replaceQuestions(row.id, stored, s.clock());
  await audit(s, { tenantId: a.tenantId, type: 'customer.questions_set', outcome: 'success', actor: a.actor, target: { type: 'customer', id: row.id }, origin: a.origin, data: { count: stored.length } });
  return stored.map((q) => ({ id: q.id, question: q.question }));
}

/** Compares a PIN with the stored one (same timing when the customer has none). */
export async function checkPin(s: Services, t: Target, pin: string): Promise<boolean> {
  const row = await s.store.customers.byId(t.tenantId, t.id);
  const stored = row ? await s.store.customers.pinHash(row.id) : null;
  return s.hasher.verify(stored, knowledgeInput(s, 'pin', pin.replace(/[\s#*]/g, '')));
}

/** Compares an answer (normalized the same way) with the stored answer of one question. */
export async function checkAnswer(s: Services, t: Target & { questionId: string }, answer: string): Promise<boolean> {
  const row = await s.store.customers.byId(t.tenantId, t.id);
  const q = row ? (await s.store.customers.questions(row.id)).find((x) => x.id === t.questionId) : undefined;
  return s.hasher.verify(q?.answer_hash ?? null, knowledgeInput(s, 'answer', normalizeAnswer(answer)));
}
