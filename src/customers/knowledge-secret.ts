/**
 * What is hashed for a customer's PIN or security answer: HMAC-SHA256 of the (normalized) value under
 * a pepper derived from the server's encryption key, then argon2id. A 4-digit PIN has only 10,000
 * values, so argon2id alone would not protect it if the database leaked; with the pepper kept out of
 * the database, the stolen hashes cannot be tried offline.
 */
import { hmac } from '../crypto/tokens.js';
import type { Services } from '../services/context.js';

export const knowledgeInput = (s: Services, kind: 'pin' | 'answer', value: string): string => hmac(s.aead.derive(`customer-${kind}`), value).toString('base64');
