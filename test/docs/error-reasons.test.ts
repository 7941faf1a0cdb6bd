/**
 * Every reason src/ gives (an error's `details.reason`, an audit event's `data.reason`, a method's
 * `{ ok: false, reason }`, a check's answer) is registered in `errorReasons` (src/domain/errors.ts),
 * and every registered reason is still given somewhere: one vocabulary, documented in docs/errors.md.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { errorCodes, errorReasons, isErrorReason } from '../../src/domain/errors.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const LITERAL = /'([^'\\\n]+)'/g;

function sources(dir: string): { file: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return sources(p);
    return /\.tsx?$/.test(d.name) ? [{ file: p.slice(SRC.length), text: readFileSync(p, 'utf8') }] : [];
  });
}

/** The expression after `reason:` up to the `,` `;` or closing bracket that ends it (or the line). */
function expressionAt(text: string, from: number): string {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return text.slice(from);
      i = end;
    } else if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) {
      if (depth === 0) return text.slice(from, i);
      depth--;
    } else if ((ch === ',' || ch === ';' || ch === '\n') && depth === 0) return text.slice(from, i);
  }
  return text.slice(from);
}

/** The literals an expression can evaluate to: those at its start or after `?`, `:`, `|`, `??` (not compared ones). */
function results(expr: string): string[] {
  return [...expr.matchAll(LITERAL)].filter((m) => /(^|\?|:|\|)\s*$/.test(expr.slice(0, m.index))).map((m) => m[1]!);
}

/** Every reason given in src/, with where. */
function reasonsInSource(files = sources(SRC)): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const add = (reason: string, where: string) => found.set(reason, [...(found.get(reason) ?? []), where]);
  const constants = new Map<string, string>();
  for (const { text } of files) for (const m of text.matchAll(/\bconst\s+([A-Z][A-Z0-9_]*)\s*=\s*'([^'\n]+)'/g)) constants.set(m[1]!, m[2]!);
  for (const { file, text } of files) {
    const at = (i: number) => `${file}:${text.slice(0, i).split('\n').length}`;
    // `reason: 'x'`, `reason?: 'a' | 'b'`, `reason: c ? 'a' : 'b'`, `{ ok: false, reason: 'x' }`, `reason: CONSTANT`
    for (const m of text.matchAll(/\breason\??\s*:\s*/g)) {
      const expr = expressionAt(text, m.index + m[0].length);
      for (const r of results(expr)) add(r, at(m.index));
      const name = /^([A-Z][A-Z0-9_]*)\s*$/.exec(expr)?.[1];
      if (name && constants.has(name)) add(constants.get(name)!, at(m.index));
    }
    // `reason === 'x'`, `v.reason !== 'x'`, `reason = 'x'`
    for (const m of text.matchAll(/\breason\s*(?:[!=]==|=(?!=))\s*'([^'\n]+)'/g)) add(m[1]!, at(m.index));
    // audit helpers called with the reason: `failure('x')`, `refuse('x', ...)`
    for (const m of text.matchAll(/\b(?:failure|refuse)\(\s*'([^'\n]+)'/g)) add(m[1]!, at(m.index));
    // `refuse(new AppError(...), 'x')`: the audited reason after the error
    for (const m of text.matchAll(/\brefuse\([^;\n]*?\),\s*'([^'\n]+)'/g)) add(m[1]!, at(m.index));
  }
  return found;
}

describe('error reasons: one registered vocabulary', () => {
  const found = reasonsInSource();

  it('finds the reasons src/ gives (the scan works)', () => {
    // one of each form: a method verdict, an AppError detail, a gate union type, a constant, an audit helper call
    for (const r of ['wrong_code', 'flow_budget_spent', 'throttled', 'interaction_mismatch', 'wrong_current_password']) expect(found.has(r), r).toBe(true);
    expect(found.size).toBeGreaterThan(30);
  });

  it('every reason given in src/ is registered in errorReasons (src/domain/errors.ts)', () => {
    const unregistered = [...found].filter(([r]) => !isErrorReason(r)).map(([r, at]) => `${r} (${at.join(', ')})`);
    expect(unregistered, 'register these in errorReasons, or use a registered word').toEqual([]);
  });

  it('every registered reason is still given somewhere in src/ (no stale entries)', () => {
    const stale = Object.keys(errorReasons).filter((r) => !found.has(r));
    expect(stale, 'remove these from errorReasons, or give them again').toEqual([]);
  });

  it('each registered reason is documented and names only registered error codes', () => {
    for (const [reason, r] of Object.entries(errorReasons)) {
      expect(r.doc.trim().length, reason).toBeGreaterThan(10);
      expect(r.where.length, reason).toBeGreaterThan(0);
      for (const c of r.codes) expect(Object.hasOwn(errorCodes, c), `${reason}: ${c}`).toBe(true);
      if ((r.where as readonly string[]).includes('details')) expect(r.codes.length, `${reason} is in details, so it rides on an error code`).toBeGreaterThan(0);
    }
  });

  it('the scan catches the forms it is meant to (and skips compared literals)', () => {
    const f = [{ file: 'x.ts', text: "if (s.kind === 'customer') return { ok: false, reason: s.kind === 'a' ? 'one' : 'two' };\nconst K = 'kay';\nthrow new AppError('conflict', { reason: K });\nif (r.reason === 'three') refuse('four', e);\nawait refuse(new AppError('x', { n: f(1), reason: 'eight' }, 'Words.'), 'seven');\ntype T = { reason: 'five' | 'six' };" }];
    expect([...reasonsInSource(f).keys()].sort()).toEqual(['eight', 'five', 'four', 'kay', 'one', 'seven', 'six', 'three', 'two']);
  });
});
