/**
 * Whose failure counter an attempt goes on, written once: the password of (tenant, identifier), a
 * staff user's method, or a customer's method. Storage builds the same keys in SQL from the same
 * prefixes (src/storage/repositories/flow-claims.ts); the conformance suite checks they agree.
 */
export const COUNTER_PREFIX = { identifier: 'pw:', user: 'f:', customer: 'c:' } as const;

export const identifierCounter = (tenantId: string, identifier: string) => `${COUNTER_PREFIX.identifier}${tenantId}:${identifier}`;
export const subjectCounter = (type: 'user' | 'customer', subjectId: string, method: string) => `${COUNTER_PREFIX[type]}${subjectId}:${method}`;
/** Every method counter of one subject (an administrator's unlock). */
export const subjectCounterPrefix = (type: 'user' | 'customer', subjectId: string) => `${COUNTER_PREFIX[type]}${subjectId}:`;

/** The password counter of (tenant, identifier). */
export const passwordSubject = identifierCounter;
/** A staff user's method counter. */
export const factorSubject = (userId: string, method: string) => subjectCounter('user', userId, method);
/** A customer's method counter (across verifications). */
export const customerFactorSubject = (customerId: string, method: string) => subjectCounter('customer', customerId, method);
