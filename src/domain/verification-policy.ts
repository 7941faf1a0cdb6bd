/**
 * Caller-verification levels as data. A level is satisfied by any one of its alternatives; an
 * alternative is a list of requirements, each met by a different completed method: a category
 * (`possession`, `knowledge`) or one method by name (`pin`, `question`, `otp_sms`, ...).
 * Security questions are low assurance (NIST PV-6): they never satisfy a level on their own.
 * A method's category is its own trait (src/methods/<kind>): evaluation asks for it, nothing here
 * writes it down.
 */
import { z } from 'zod';

export const callerMethods = ['otp_sms', 'otp_voice', 'otp_email', 'totp', 'pin', 'question'] as const;
export type CallerMethod = (typeof callerMethods)[number];

/** A method's category, from the method registry (the method's traits). */
export type CategoryOf = (method: string) => string | undefined;

const requirement = z.union([z.enum(['possession', 'knowledge']), z.enum(callerMethods)]);
export type Requirement = z.infer<typeof requirement>;

const level = z
  .object({
    description: z.string().max(200).default(''),
    anyOf: z.array(z.array(requirement).min(1).max(4)).min(1).max(8),
  })
  .strict();

export const defaultLevels = {
  standard: { description: 'One possession factor, or PIN plus a security question', anyOf: [['possession'], ['pin', 'question']] },
  high: { description: 'For payments and contact changes: possession plus knowledge', anyOf: [['possession', 'knowledge']] },
} satisfies Record<string, z.input<typeof level>>;

export const verificationPolicySchema = z
  .object({
    levels: z.record(z.string().regex(/^[a-z][a-z0-9_]{1,30}$/), level).default(defaultLevels),
    defaultLevel: z.string().default('standard'),
    /** A contact changed more recently than this is refused for codes and flagged as a risk. */
    contactChangeWindowDays: z.number().int().min(0).max(90).default(7),
    code: z
      .object({
        digits: z.number().int().min(6).max(10).default(6),
        ttlMinutes: z.number().int().min(2).max(10).default(10),
        maxChecks: z.number().int().min(1).max(10).default(5),
        sendsPerDestinationPer10Min: z.number().int().min(1).max(20).default(5),
        resendCooldownSeconds: z.number().int().min(0).max(600).default(60),
      })
      .strict()
      .default({ digits: 6, ttlMinutes: 10, maxChecks: 5, sendsPerDestinationPer10Min: 5, resendCooldownSeconds: 60 }),
    limits: z
      .object({ sendsPerAgentPerMinute: z.number().int().min(1).max(1000).default(10), sendsPerTenantPerMinute: z.number().int().min(1).max(100_000).default(100) })
      .strict()
      .default({ sendsPerAgentPerMinute: 10, sendsPerTenantPerMinute: 100 }),
    flowTtlMinutes: z.number().int().min(1).max(60).default(15),
    /** Failed steps one verification allows before it fails. */
    attempts: z.number().int().min(1).max(20).default(5),
    /** At or above this risk score the flow needs `highLevel` whatever was asked. */
    risk: z.object({ stepUpAtScore: z.number().int().min(0).max(100).default(50), highLevel: z.string().default('high') }).strict().default({ stepUpAtScore: 50, highLevel: 'high' }),
  })
  .strict()
  .superRefine((p, ctx) => {
    for (const name of [p.defaultLevel, p.risk.highLevel]) {
      if (!p.levels[name]) ctx.addIssue({ code: 'custom', path: ['levels'], message: `level "${name}" is named but not defined` });
    }
    for (const [name, l] of Object.entries(p.levels)) {
      l.anyOf.forEach((alt, i) => {
        if (alt.every((r) => r === 'question')) ctx.addIssue({ code: 'custom', path: ['levels', name, 'anyOf', i], message: 'security questions are never sufficient alone' });
      });
    }
  });

export type VerificationPolicy = z.output<typeof verificationPolicySchema>;

export interface LevelStatus {
  level: string;
  satisfied: boolean;
  /** Per alternative: which requirements are met and which are missing. */
  alternatives: Array<{ requirements: Requirement[]; met: Requirement[]; missing: Requirement[] }>;
}


/**
 * Whether completed methods satisfy a level: each requirement of an alternative needs its own
 * method (a PIN cannot count twice), found by a small bipartite matching.
 */
export function evaluateLevel(policy: VerificationPolicy, levelName: string, completed: readonly string[], categoryOf: CategoryOf): LevelStatus {
  const def = policy.levels[levelName];
  if (!def) throw new Error(`unknown verification level ${levelName}`);
  const methods = [...new Set(completed)];
  const alternatives = def.anyOf.map((reqs) => {
    const assigned = match(reqs, methods, (r, m) => r === m || r === categoryOf(m));
    const met = reqs.filter((_, i) => assigned[i] !== undefined);
    const missing = reqs.filter((_, i) => assigned[i] === undefined);
    return { requirements: reqs, met, missing };
  });
  const onlyQuestions = methods.length > 0 && methods.every((m) => m === 'question');
  const satisfied = !onlyQuestions && alternatives.some((a) => a.missing.length === 0);
  return { level: levelName, satisfied, alternatives };
}

/** Assigns distinct methods to requirements (augmenting paths; inputs are tiny). */
function match(reqs: readonly Requirement[], methods: readonly string[], meets: (r: Requirement, m: string) => boolean): Array<string | undefined> {
  const owner = new Map<string, number>();
  const tryAssign = (i: number, seen: Set<string>): boolean => {
    for (const m of methods) {
      if (!meets(reqs[i]!, m) || seen.has(m)) continue;
      seen.add(m);
      const holder = owner.get(m);
      if (holder === undefined || tryAssign(holder, seen)) {
        owner.set(m, i);
        return true;
      }
    }
    return false;
  };
  reqs.forEach((_, i) => tryAssign(i, new Set()));
  const out: Array<string | undefined> = reqs.map(() => undefined);
  for (const [m, i] of owner) out[i] = m;
  return out;
}
