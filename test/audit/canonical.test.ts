/** canonicalJson and the chain-hash rule: deterministic, sorted, whitespace-free. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, canonicalJson, chainHash, eventFields, type ChainRow } from '../../src/audit/canonical.js';

describe('canonicalJson', () => {
  it('sorts object keys recursively and writes no whitespace', () => {
    const value = { b: 1, a: { d: [3, { z: true, y: null }], c: 'x' }, ' ': 0 };
    expect(canonicalJson(value)).toBe('{" ":0,"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}');
  });

  it('is stable whatever the key insertion order', () => {
    const one = { type: 'signin', data: { factor: 'totp', attempt: 2, tags: ['a', 'b'] }, id: 7 };
    const two = { id: 7, data: { tags: ['a', 'b'], attempt: 2, factor: 'totp' }, type: 'signin' };
    expect(canonicalJson(one)).toBe(canonicalJson(two));
    expect(canonicalJson(JSON.parse(JSON.stringify(one)))).toBe(canonicalJson(one));
  });

  it('keeps array order', () => {
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson({})).toBe('{}');
  });

  it('sorts keys by UTF-16 code units (RFC 8785 section 3.2.3 example)', () => {
    const value = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
    const keys = [...canonicalJson(value).matchAll(/"([^"]*)":"([^"]*)"/g)].map((m) => m[2]);
    expect(keys).toEqual(['Carriage Return', 'One', 'Control', 'Latin Small Letter O With Diaeresis', 'Euro Sign', 'Emoji: Grinning Face', 'Hebrew Letter Dalet With Dagesh']);
  });

  it('writes numbers and strings the ECMAScript way', () => {
    expect(canonicalJson({ n: [0, -0, 1, -1.5, 0.1, 1e21, 1e-7, 333333333.3333333, 9007199254740991] })).toBe(
      '{"n":[0,0,1,-1.5,0.1,1e+21,1e-7,333333333.3333333,9007199254740991]}',
    );
    expect(canonicalJson('quote " backslash \\ newline \n tab \t nul \u0000 é €')).toBe(JSON.stringify('quote " backslash \\ newline \n tab \t nul \u0000 é €'));
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson(null)).toBe('null');
  });

  it('leaves out undefined properties and rejects what JSON cannot hold exactly', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 10n, undefined, () => 1, Symbol('s'), new Date(0), new Map(), { nested: [Number.NaN] }]) {
      expect(() => canonicalJson(bad), String(bad)).toThrow(TypeError);
    }
  });
});

describe('chainHash', () => {
  const row: ChainRow = {
    id: '42',
    tenant_id: '3f1c8a52-9a43-4b7e-8d2b-6f0e4c1d2a10',
    chain_seq: 1,
    occurred_at: new Date('2025-03-01T12:34:56.789Z'),
    type: 'signin.password',
    outcome: 'failure',
    actor_type: 'anonymous',
    actor_id: null,
    target_type: 'user',
    target_id: 'u-1',
    ip: '203.0.113.9',
    user_agent: 'Mozilla/5.0',
    channel: 'web',
    request_id: 'req-1',
    data: { reason: 'bad_password', attempts: 3 },
  };

  it('is sha256 over prev_hash followed by the canonical fields', () => {
    const fields = eventFields(row);
    expect(fields.id).toBe(42);
    expect(fields.occurred_at).toBe('2025-03-01T12:34:56.789Z');
    const text =
      GENESIS_HASH +
      '{"actor_id":null,"actor_type":"anonymous","chain_seq":1,"channel":"web","data":{"attempts":3,"reason":"bad_password"},"id":42,' +
      '"ip":"203.0.113.9","occurred_at":"2025-03-01T12:34:56.789Z","outcome":"failure","request_id":"req-1","target_id":"u-1",' +
      '"target_type":"user","tenant_id":"3f1c8a52-9a43-4b7e-8d2b-6f0e4c1d2a10","type":"signin.password","user_agent":"Mozilla/5.0"}';
    expect(chainHash(GENESIS_HASH, fields)).toBe(createHash('sha256').update(text).digest('hex'));
    expect(GENESIS_HASH).toMatch(/^0{64}$/);
  });

  it('changes with any field and with the previous hash', () => {
    const base = chainHash(GENESIS_HASH, eventFields(row));
    expect(chainHash('f'.repeat(64), eventFields(row))).not.toBe(base);
    expect(chainHash(GENESIS_HASH, eventFields({ ...row, outcome: 'success' }))).not.toBe(base);
    expect(chainHash(GENESIS_HASH, eventFields({ ...row, chain_seq: 2 }))).not.toBe(base);
    expect(chainHash(GENESIS_HASH, eventFields({ ...row, data: { reason: 'bad_password', attempts: 4 } }))).not.toBe(base);
    expect(chainHash(GENESIS_HASH, eventFields({ ...row, data: { attempts: 3, reason: 'bad_password' } }))).toBe(base);
  });
});
