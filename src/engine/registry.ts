/**
 * The methods this server knows, and assurance derived from completed methods (never claimed):
 * AAL2 needs two different categories with at least one method able to reach AAL2.
 */
import type { Method, MethodTraits, SubjectType } from './method.js';

export class MethodRegistry {
  readonly #methods = new Map<string, Method<any>>();

  register(m: Method<any>): this {
    if (this.#methods.has(m.kind)) throw new Error(`method ${m.kind} registered twice`);
    this.#methods.set(m.kind, m);
    return this;
  }

  get(kind: string): Method<unknown> | undefined {
    return this.#methods.get(kind);
  }

  /** The method if it serves this kind of subject. */
  for(kind: string, subject: SubjectType): Method<unknown> | undefined {
    const m = this.#methods.get(kind);
    return m && m.subjects.includes(subject) ? m : undefined;
  }

  kinds(subject?: SubjectType): string[] {
    return [...this.#methods.values()].filter((m) => !subject || m.subjects.includes(subject)).map((m) => m.kind);
  }

  traits(): Array<MethodTraits & { kind: string; subjects: readonly SubjectType[] }> {
    return [...this.#methods.values()].map((m) => ({ kind: m.kind, subjects: m.subjects, ...m.traits }));
  }

  /** A method's category (its trait); an arrow so it can be handed on as a function. */
  readonly categoryOf = (kind: string): MethodTraits['category'] | undefined => this.#methods.get(kind)?.traits.category;

  /** The assurance level reached by a set of completed methods. */
  aalFor(methods: readonly string[]): 0 | 1 | 2 | 3 {
    const done = [...new Set(methods)].map((m) => this.#methods.get(m)?.traits).filter((t): t is MethodTraits => t !== undefined);
    if (done.length === 0) return 0;
    const categories = new Set(done.map((t) => t.category));
    if (categories.size < 2) return 1;
    const strongest = Math.max(...done.map((t) => t.aal));
    if (strongest >= 3 && done.some((t) => t.phishingResistant && t.aal >= 3)) return 3;
    return strongest >= 2 ? 2 : 1;
  }
}
