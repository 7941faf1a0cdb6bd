/**
 * The factors known to this server, and assurance derived from completed methods (never claimed):
 * AAL2 needs two different categories with at least one factor able to reach AAL2.
 */
import type { Factor, FactorTraits } from './factor.js';

export class FactorRegistry {
  readonly #factors = new Map<string, Factor>();

  register(f: Factor): this {
    if (this.#factors.has(f.kind)) throw new Error(`factor ${f.kind} registered twice`);
    this.#factors.set(f.kind, f);
    return this;
  }

  get(kind: string): Factor | undefined {
    return this.#factors.get(kind);
  }

  traits(): FactorTraits[] {
    return [...this.#factors.values()].map(({ kind, category, aal, phishingResistant, restricted, label }) => ({ kind, category, aal, phishingResistant, restricted, label }));
  }

  /** The assurance level reached by a set of completed methods. */
  aalFor(methods: readonly string[]): 0 | 1 | 2 | 3 {
    const done = [...new Set(methods)].map((m) => this.#factors.get(m)).filter((f): f is Factor => f !== undefined);
    if (done.length === 0) return 0;
    const categories = new Set(done.map((f) => f.category));
    if (categories.size < 2) return 1;
    const strongest = Math.max(...done.map((f) => f.aal));
    if (strongest >= 3 && done.some((f) => f.phishingResistant && f.aal >= 3)) return 3;
    return strongest >= 2 ? 2 : 1;
  }
}
