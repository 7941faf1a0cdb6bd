/** A stolen database alone must not give away customers' PINs, answers or sealed fields. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from '../helpers/app.js';
import { callerFixture } from '../helpers/callers.js';

describe('customer secrets at rest', () => {
  let t: TestApp;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  beforeAll(async () => {
    t = await testApp();
    f = await callerFixture(t);
  });
  afterAll(() => t.close());

  it('the PIN hash does not verify the PIN without the server pepper (no offline guessing of 10,000 PINs)', async () => {
    const hash = await t.s.store.customers.pinHash(f.customerId);
    expect(hash).toMatch(/^\$argon2id\$/);
    expect(await t.s.hasher.verify(hash, '480613')).toBe(false);
    const rows = JSON.stringify(await t.s.store.db.selectFrom('customer_pins').selectAll().execute());
    expect(rows).not.toContain('480613');
  });

  it('answer hashes do not verify the answers without the pepper', async () => {
    const qs = await t.s.store.customers.questions(f.customerId);
    expect(qs).toHaveLength(2);
    for (const q of qs) {
      expect(await t.s.hasher.verify(q.answer_hash, 'fluffy')).toBe(false);
      expect(await t.s.hasher.verify(q.answer_hash, 'sacramento')).toBe(false);
    }
  });
});
