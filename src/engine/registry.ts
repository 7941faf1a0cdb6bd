/**
 * The methods this server knows, and assurance derived from completed methods (never claimed):
 * AAL2 needs two different categories (a multi-factor authenticator is two) with at least one method
 * able to reach AAL2; AAL3 also needs a phishing-resistant method able to reach AAL3 (a device-bound key).
 */
import type { Method, MethodTraits, SubjectType } from './method.js';

export class MethodRegistry {
  readonly #methods = new Map<string, Method<any>>();
  /** Traits of every kind a success may record: each method's own and its variants'. */
  readonly #traits = new Map<string, MethodTraits>();

  register(m: Method<any>): this {
    for (const k of [m.kind, ...Object.keys(m.variants ?? {})]) if (this.#traits.has(k)) throw new Error(`method ${k} registered twice`);
    this.#methods.set(m.kind, m);
    this.#traits.set(m.kind, m.traits);
    for (const [k, t] of Object.entries(m.variants ?? {})) this.#traits.set(k, t);
    return this;
  }

  /** The traits of a recorded kind (a method or one of its variants). */
  traitsOf(kind: string): MethodTraits | undefined {
    return this.#traits.get(kind);
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
  readonly categoryOf = (kind: string): MethodTraits['category'] | undefined => this.#traits.get(kind)?.category;

  /** Whether at least one of these recorded kinds is phishing-resistant. */
  phishingResistant(methods: readonly string[]): boolean {
    return methods.some((m) => this.#traits.get(m)?.phishingResistant === true);
  }

  /** The assurance level reached by a set of completed methods. */
  aalFor(methods: readonly string[]): 0 | 1 | 2 | 3 {
    const done = [...new Set(methods)].map((m) => this.#traits.get(m)).filter((t): t is MethodTraits => t !== undefined);
    if (done.length === 0) return 0;
    const categories = new Set(done.map((t) => t.category));
    // a multi-factor authenticator (user verified on the device) is a second factor by itself
    if (done.some((t) => t.multiFactor)) categories.add(categories.has('inherence') ? 'knowledge' : 'inherence');
    if (categories.size < 2) return 1;
    const strongest = Math.max(...done.map((t) => t.aal));
    if (strongest >= 3 && done.some((t) => t.phishingResistant && t.aal >= 3)) return 3;
    return strongest >= 2 ? 2 : 1;
  }
}
