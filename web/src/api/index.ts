/**
 * The console's view of the API types, all derived from web/src/api/schema.d.ts, which
 * `npm run api:types` generates from the server's /openapi.json (test/docs/api-types.test.ts fails
 * when it is out of date). Pick a response body by path, method and status instead of copying shapes.
 */
import type { components, paths } from './schema';

export type { components, paths };

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** The JSON body of the `S` answer of `M path`, e.g. `ResponseOf<'/v1/me/factors', 'get'>`. */
export type ResponseOf<P extends keyof paths, M extends Method & keyof paths[P], S extends number = 200> = paths[P][M] extends {
  responses: infer R;
}
  ? S extends keyof R
    ? R[S] extends { content: { 'application/json': infer B } }
      ? B
      : never
    : never
  : never;

/** The JSON request body of `M path`. */
export type RequestOf<P extends keyof paths, M extends Method & keyof paths[P]> = paths[P][M] extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;

/** The error body every 4xx answer carries. */
export type ErrorBody = ResponseOf<'/v1/me', 'get', 401>;
