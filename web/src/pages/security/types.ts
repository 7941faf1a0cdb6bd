/**
 * Shapes of the self-service API (GET /v1/me/factors, /v1/me/sessions, /v1/me/activity), taken from
 * the generated API types (web/src/api/schema.d.ts, from the server's /openapi.json).
 */
import type { ResponseOf } from '../../api';

/** A sign-in method; recovery codes carry how many are still unused (`remaining`). */
export type Factor = ResponseOf<'/v1/me/factors', 'get'>['factors'][number];
export type SessionRow = ResponseOf<'/v1/me/sessions', 'get'>['sessions'][number];
/** Sign-ins carry the methods used; failed attempts the method tried and why (`reason`). */
export type ActivityEvent = ResponseOf<'/v1/me/activity', 'get'>['events'][number];

export const RECOVERY_CODE_COUNT = 10;
