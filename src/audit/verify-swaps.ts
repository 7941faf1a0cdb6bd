/** Explains pairs of rows whose hashes match again once some of their fields are exchanged: swapped rows. */
import { HASHED_FIELDS, canonicalJson, chainHash, type EventFields } from './canonical.js';
import type { ChainProblem } from './verify.js';

export interface Suspect {
  problem: ChainProblem;
  prevHash: string;
  hash: string;
  fields: EventFields;
}

/** The chain hash, or null when the row holds something canonicalJson refuses (it cannot match). */
export function safeHash(prevHash: string, fields: EventFields): string | null {
  try {
    return chainHash(prevHash, fields);
  } catch {
    return null;
  }
}

/**
 * Among rows whose hash does not match, finds pairs that match again once some of their fields are
 * exchanged (chain_seq, ids, types, times...), and reports those as swapped with each other.
 */
export function explainSwaps(suspects: Suspect[]): void {
  const explained = new Set<Suspect>();
  for (let i = 0; i < suspects.length; i++) {
    const x = suspects[i]!;
    if (explained.has(x)) continue;
    for (let j = i + 1; j < suspects.length; j++) {
      const y = suspects[j]!;
      if (explained.has(y)) continue;
      const differing = HASHED_FIELDS.filter((f) => canonicalJson(x.fields[f]) !== canonicalJson(y.fields[f]));
      const swapped = candidateSets(differing).find((set) => matchesWith(x, y, set) && matchesWith(y, x, set));
      if (!swapped) continue;
      for (const [a, b] of [[x, y], [y, x]] as const) {
        a.problem.kind = 'reordered';
        a.problem.detail = `hash does not match its content: its ${swapped.join(', ')} ${swapped.length === 1 ? 'was' : 'were'} swapped with event ${b.problem.eventId} (seq ${b.problem.chainSeq})`;
        explained.add(a);
      }
      break;
    }
  }
}

/** Whether `a` hashes to its stored hash once it takes `set` from `b`. */
function matchesWith(a: Suspect, b: Suspect, set: readonly (keyof EventFields)[]): boolean {
  const fields: Record<string, unknown> = { ...a.fields };
  for (const f of set) fields[f] = b.fields[f];
  return safeHash(a.prevHash, fields as unknown as EventFields) === a.hash;
}

/** Subsets of the differing fields worth trying: up to 3 fields, or all but up to 2 of them. */
function candidateSets<T>(fields: readonly T[]): T[][] {
  const out: T[][] = [];
  const seen = new Set<string>();
  const add = (set: T[]) => {
    const key = set.map((f) => fields.indexOf(f)).join(',');
    if (set.length > 0 && !seen.has(key)) {
      seen.add(key);
      out.push(set);
    }
  };
  const combos = (k: number, start = 0, acc: T[] = []): void => {
    if (acc.length === k) return void add([...acc]);
    for (let i = start; i < fields.length; i++) combos(k, i + 1, [...acc, fields[i]!]);
  };
  for (let k = 1; k <= Math.min(3, fields.length); k++) combos(k);
  for (let k = 0; k <= 2 && k < fields.length; k++) {
    const dropped: T[][] = [];
    const pick = (start: number, acc: T[]): void => {
      if (acc.length === k) return void dropped.push(acc);
      for (let i = start; i < fields.length; i++) pick(i + 1, [...acc, fields[i]!]);
    };
    pick(0, []);
    for (const d of dropped) add(fields.filter((f) => !d.includes(f)));
  }
  return out;
}

