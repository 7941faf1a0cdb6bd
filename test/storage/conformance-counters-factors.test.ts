/** Storage conformance, CounterRepo: the same contract on PGlite and PostgreSQL (the credential parts moved to conformance-credentials.test.ts). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/storage/store.js';
import { backends, testStore } from '../helpers/db.js';
import { at, range, uniq } from '../helpers/fixtures.js';

const BACKENDS = await backends();

describe.each(BACKENDS)('storage conformance on %s', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await testStore(backend);
  });
  afterAll(async () => {
    await store?.close();
  });

  describe('CounterRepo', () => {
    it('hit counts 1, 2, 3 and reports the previous attempt time', async () => {
      const subject = `pw:${uniq()}:alice`;
      const t0 = new Date('2030-01-01T00:00:00.123Z');
      const a = await store.counters.hit(subject, t0);
      expect(a).toEqual({ failures: 1, prevAttemptAt: null, lastFailureAt: null, lockedUntil: null });
      const b = await store.counters.hit(subject, at(t0, 5));
      expect(b).toEqual({ failures: 2, prevAttemptAt: t0, lastFailureAt: null, lockedUntil: null });
      const c = await store.counters.hit(subject, at(t0, 9));
      expect(c).toEqual({ failures: 3, prevAttemptAt: at(t0, 5), lastFailureAt: null, lockedUntil: null });
      expect(await store.counters.get(subject)).toEqual(c);
      expect(await store.counters.get(`${subject}-other`)).toBeNull();
    });

    it('20 parallel hits on one subject each count exactly once', async () => {
      const subject = `f:${uniq()}:totp`;
      const now = new Date();
      const results = await Promise.all(range(20).map((i) => store.counters.hit(subject, at(now, i))));
      expect(results.map((r) => r.failures).sort((x, y) => x - y)).toEqual(range(20));
      expect((await store.counters.get(subject))?.failures).toBe(20);
    });

    it('reset deletes the counter, so the next hit starts from 1', async () => {
      const subject = `pw:${uniq()}:bob`;
      const now = new Date();
      await store.counters.hit(subject, now);
      await store.counters.hit(subject, at(now, 1));
      await store.counters.reset(subject);
      expect(await store.counters.get(subject)).toBeNull();
      expect(await store.counters.hit(subject, at(now, 2))).toEqual({ failures: 1, prevAttemptAt: null, lastFailureAt: null, lockedUntil: null });
      await store.counters.reset(`${subject}-never-hit`); // resetting nothing is fine
    });

    it('lock sets locked_until and keeps the failure count; later hits keep counting', async () => {
      const subject = `pw:${uniq()}:carol`;
      const now = new Date();
      for (const i of range(5)) await store.counters.hit(subject, at(now, i));
      const until = at(now, 900);
      await store.counters.lock(subject, until);
      expect(await store.counters.get(subject)).toEqual({ failures: 5, prevAttemptAt: at(now, 4), lastFailureAt: null, lockedUntil: until });
      const next = await store.counters.hit(subject, at(now, 10));
      expect(next).toEqual({ failures: 6, prevAttemptAt: at(now, 5), lastFailureAt: null, lockedUntil: until });
    });

    it('recordFailure stamps last_failure_at on an existing counter only; hit keeps it', async () => {
      const subject = `pw:${uniq()}:dave`;
      const now = new Date();
      await store.counters.recordFailure(subject, now); // no counter yet: nothing is created
      expect(await store.counters.get(subject)).toBeNull();
      await store.counters.hit(subject, now);
      await store.counters.recordFailure(subject, at(now, 1));
      expect(await store.counters.get(subject)).toEqual({ failures: 1, prevAttemptAt: null, lastFailureAt: at(now, 1), lockedUntil: null });
      expect(await store.counters.hit(subject, at(now, 2))).toEqual({ failures: 2, prevAttemptAt: now, lastFailureAt: at(now, 1), lockedUntil: null });
      await store.counters.reset(subject);
      expect((await store.counters.hit(subject, at(now, 3))).lastFailureAt).toBeNull();
    });

    it('resetPrefix deletes exactly the subjects under the prefix (LIKE wildcards are literal)', async () => {
      const k = uniq();
      const now = new Date();
      const subjects = [`pw:${k}:a`, `pw:${k}:b`, `pw:${k}x:c`, `f:${k}_1:totp`, `f:${k}Z1:totp`, `f:${k}%:totp`, `f:${k}%Q:totp`];
      for (const s of subjects) await store.counters.hit(s, now);
      expect(await store.counters.resetPrefix(`pw:${k}:`)).toBe(2);
      expect(await store.counters.get(`pw:${k}:a`)).toBeNull();
      expect(await store.counters.get(`pw:${k}:b`)).toBeNull();
      expect(await store.counters.get(`pw:${k}x:c`)).not.toBeNull();
      // '_' must not match any one character
      expect(await store.counters.resetPrefix(`f:${k}_1:`)).toBe(1);
      expect(await store.counters.get(`f:${k}Z1:totp`)).not.toBeNull();
      // '%' must not match any run of characters
      expect(await store.counters.resetPrefix(`f:${k}%:`)).toBe(1);
      expect(await store.counters.get(`f:${k}%Q:totp`)).not.toBeNull();
      expect(await store.counters.resetPrefix(`nothing:${k}`)).toBe(0);
    });
  });
});
