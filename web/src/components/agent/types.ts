/**
 * The shapes the agent desktop reads from the API, taken from the generated API types
 * (web/src/api/schema.d.ts, from the server's /openapi.json): a change on the server shows here.
 */
import type { ResponseOf } from '../../api';

export type VerificationView = ResponseOf<'/v1/tenants/{tenant}/verifications/{id}', 'get'>;
export type VerificationState = VerificationView['state'];
export type CallerMethod = VerificationView['completedMethods'][number];
export type LevelStatus = VerificationView['status'];
/** A requirement of a level: a category or one method by name. */
export type Requirement = LevelStatus['alternatives'][number]['requirements'][number];
export type AvailableMethod = VerificationView['available'][number];
export type AvailableContact = NonNullable<AvailableMethod['contacts']>[number];
export type Risk = VerificationView['risk'];
export type RiskSignal = Risk['signals'][number];

export type CustomerSummary = ResponseOf<'/v1/tenants/{tenant}/customers', 'get'>['customers'][number];
export type MaskedContact = CustomerSummary['contacts'][number];
export type Customer = ResponseOf<'/v1/tenants/{tenant}/customers/{id}', 'get'>;

export type CodeSent = ResponseOf<'/v1/tenants/{tenant}/verifications/{id}/codes', 'post'>;

export const terminal = (s: VerificationState | undefined) => s !== undefined && s !== 'pending';
