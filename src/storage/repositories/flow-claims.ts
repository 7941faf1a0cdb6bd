/**
 * The claim: one statement that (1) spends an attempt of the flow's budget, checking tenant, token,
 * state, expiry and budget, (2) registers the check as in flight on the method's failure counter
 * (src/engine/gate.ts judges from what it returns), and (3) reads what the step needs: the tenant's
 * policy in force, and per need of the method or the kind, the account, the credential, the PIN
 * hash, the questions, the customer's overview, a message template. A read-only claim (`spend:
 * false`, no counter) serves the steps that check nothing (asking a question, sending a code).
 */
import { sql, type RawBuilder } from 'kysely';
import { COUNTER_PREFIX } from '../../engine/counter-keys.js';
import type { FlowRecord } from '../../engine/flow.js';
import type { CounterState } from '../../engine/gate.js';
import type { Account, Loaded, Need } from '../../engine/method.js';
import type { Db } from '../db.js';

/** A check that has not reported back after this long no longer counts as in flight. */
import { IN_FLIGHT_STALE_MS } from '../../engine/flow.js';

export { IN_FLIGHT_STALE_MS };

/** What the kind (not the method) needs read with every claim. */
export type KindNeed = 'account' | 'customer' | 'template' | 'phone' | Need;

export interface CustomerOverview {
  createdAt: Date;
  externalId: string | null;
  contacts: Array<{ id: string; kind: 'phone' | 'email'; value: string; changedAt: Date }>;
  hasPin: boolean;
  questionCount: number;
  credentialKinds: string[];
}

export interface TemplateSource {
  tenantName: string;
  defaultLocale: string;
  variants: Array<{ locale: string; subject: string; body: string }>;
}

export interface ClaimRequest {
  id: string;
  /** Scope: a flow of another tenant is not found. */
  tenantId?: string;
  /** The flow token's hash, for kinds driven by an unauthenticated client. */
  secretHash?: Buffer;
  states: readonly string[];
  now: Date;
  /** Spend one attempt of the budget (a check); false for steps that check nothing. */
  spend: boolean;
  /** The method being checked: its kind, counter, credential kind and ceremony slot. */
  method?: { kind: string; counter: 'identifier' | 'subject'; slot: string; needs: readonly Need[] };
  kindNeeds?: readonly KindNeed[];
  /** For 'template': which template and channel. */
  template?: { name: string; channel: string };
  /** Fixed-window counters to add one use to in the same statement (their counts come back). */
  rateHits?: Array<{ name: string; key: RawBuilder<string>; windowMs: number; shards?: number }>;
  /** Read the flow whatever its state (no attempt spent, no state/expiry/budget check). */
  readOnly?: boolean;
  /** For 'named_credential': the credential the answer names (a security key's credential ID). */
  credentialRef?: string;
  /** With readOnly and tenantId: the tenant's newest flow of this interaction (a call) instead of `id`. */
  interactionId?: string;
}

export interface Claimed {
  flow: FlowRecord;
  tenantSlug: string;
  policy: { version: number; raw: unknown };
  counter: (CounterState & { subject: string }) | null;
  loaded: Loaded;
  customer?: CustomerOverview;
  template?: TemplateSource;
  /** The counts of `rateHits` after this use, and when their windows end. */
  rates: Record<string, { count: number; resetAt: Date }>;
}

const date = (v: unknown): Date | null => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v)));

function needSql(need: Need | KindNeed, r: ClaimRequest): RawBuilder<unknown> | null {
  const kind = r.method?.kind ?? '';
  const slot = r.method?.slot ?? kind;
  switch (need) {
    case 'account':
      return sql`(SELECT jsonb_build_object('id', u.id, 'tenantId', u.tenant_id, 'email', u.email, 'roles', u.roles, 'status', u.status,
                    'passwordHash', u.password_hash, 'graceStartedAt', u.grace_started_at, 'graceSignins', u.grace_signins,
                    'activeKinds', (SELECT coalesce(array_agg(cr.kind), '{}') FROM credentials cr WHERE cr.subject_type = 'user' AND cr.subject_id = u.id AND cr.status = 'active'))
                  FROM users u WHERE u.tenant_id = f.tenant_id AND CASE WHEN f.subject_id IS NOT NULL THEN u.id = f.subject_id
                    ${r.credentialRef !== undefined ? sql`WHEN f.identifier IS NULL THEN u.id = (SELECT nc.subject_id FROM credentials nc WHERE nc.tenant_id = f.tenant_id AND nc.subject_type = 'user' AND nc.kind = ${slot} AND nc.external_id = ${r.credentialRef})` : sql``}
                    ELSE u.email = f.identifier END)`;
    case 'credential':
      return sql`(SELECT jsonb_build_object('id', cr.id, 'material', encode(cr.material, 'base64'), 'status', cr.status,
                    'codes', CASE WHEN cr.kind = 'recovery_code' THEN (SELECT coalesce(jsonb_agg(encode(rc.code_hash, 'hex')), '[]') FROM recovery_codes rc WHERE rc.credential_id = cr.id AND rc.used_at IS NULL) END,
                    'usedSteps', CASE WHEN cr.kind = 'totp' THEN (SELECT coalesce(jsonb_agg(us.step), '[]') FROM totp_used_steps us WHERE us.subject_id = f.subject_id AND us.used_at > ${new Date(r.now.getTime() - 5 * 60_000)}) END)
                  FROM credentials cr WHERE cr.subject_type = f.subject_type AND cr.subject_id = f.subject_id AND cr.kind = ${kind} AND cr.status = 'active')`;
    case 'pending_credential':
      return sql`(SELECT jsonb_build_object('id', cr.id, 'material', encode(cr.material, 'base64'), 'status', cr.status)
                  FROM credentials cr WHERE cr.subject_type = f.subject_type AND cr.subject_id = f.subject_id AND cr.kind = ${kind} AND cr.status = 'pending'
                    AND cr.id::text = f.ceremony -> ${slot}::text ->> 'pendingId')`;
    case 'named_credential':
      // the credential the answer names, of the flow's subject (or, before the subject is known, of
      // whoever holds it in the tenant: passwordless sign-in); suspended ones too, so they are told apart
      return sql`(SELECT jsonb_build_object('id', cr.id, 'material', encode(cr.material, 'base64'), 'status', cr.status, 'subjectId', cr.subject_id,
                    'externalId', cr.external_id, 'signCount', cr.sign_count, 'meta', cr.meta)
                  FROM credentials cr WHERE cr.tenant_id = f.tenant_id AND cr.kind = ${slot} AND cr.external_id = ${r.credentialRef ?? ''}
                    AND cr.subject_type = coalesce(f.subject_type, 'user') AND (f.subject_id IS NULL OR cr.subject_id = f.subject_id) AND cr.status IN ('active', 'suspended'))`;
    case 'phone':
      // a staff user's verified phone number (sealed), for sending a sign-in code
      return sql`(SELECT jsonb_build_object('id', cr.id, 'material', encode(cr.material, 'base64'), 'status', cr.status)
                  FROM credentials cr WHERE cr.subject_type = 'user' AND cr.subject_id = f.subject_id AND cr.kind = 'phone' AND cr.status = 'active' LIMIT 1)`;
    case 'pin':
      return sql`(SELECT to_jsonb(cp.hash) FROM customer_pins cp WHERE cp.customer_id = f.subject_id)`;
    case 'questions':
      return sql`(SELECT coalesce(jsonb_agg(jsonb_build_object('id', q.id, 'question', q.question, 'answerHash', q.answer_hash) ORDER BY q.created_at), '[]')
                  FROM customer_questions q WHERE q.customer_id = f.subject_id)`;
    case 'customer':
      return sql`(SELECT jsonb_build_object('createdAt', cu.created_at, 'externalId', cu.external_id,
                    'contacts', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', cc.id, 'kind', cc.kind, 'value', cc.value, 'changedAt', cc.changed_at) ORDER BY cc.created_at), '[]') FROM customer_contacts cc WHERE cc.customer_id = cu.id),
                    'hasPin', EXISTS (SELECT 1 FROM customer_pins cp WHERE cp.customer_id = cu.id),
                    'questionCount', (SELECT count(*) FROM customer_questions q WHERE q.customer_id = cu.id),
                    'credentialKinds', (SELECT coalesce(array_agg(cr.kind), '{}') FROM credentials cr WHERE cr.subject_type = 'customer' AND cr.subject_id = cu.id AND cr.status = 'active'))
                  FROM customers cu WHERE cu.id = f.subject_id AND cu.tenant_id = f.tenant_id)`;
    case 'template':
      return r.template
        ? sql`jsonb_build_object('tenantName', t.name, 'defaultLocale', t.default_locale,
                'variants', (SELECT coalesce(jsonb_agg(jsonb_build_object('locale', m.locale, 'subject', m.subject, 'body', m.body)), '[]') FROM message_templates m
                             WHERE m.tenant_id = t.id AND m.template = ${r.template.name} AND m.channel = ${r.template.channel}))`
        : null;
  }
}

export async function claimFlow(db: Db, r: ClaimRequest): Promise<Claimed | undefined> {
  const needs = [...new Set<Need | KindNeed>([...(r.method?.needs ?? []), ...(r.kindNeeds ?? [])])];
  const selects = needs.flatMap((n) => {
    const q = needSql(n, r);
    return q ? [sql`${q} AS ${sql.ref(`n_${n}`)}`] : [];
  });
  const m = r.method;
  const stale = new Date(r.now.getTime() - IN_FLIGHT_STALE_MS);
  const counterCtes = m
    ? sql`, k AS (
        SELECT CASE WHEN ${m.counter} = 'identifier' THEN ${COUNTER_PREFIX.identifier} || f.tenant_id || ':' || f.identifier
                    ELSE CASE f.subject_type WHEN 'user' THEN ${COUNTER_PREFIX.user} ELSE ${COUNTER_PREFIX.customer} END || f.subject_id || ':' || ${m.kind}::text END AS subject
        FROM f WHERE ${m.counter} = 'identifier' OR f.subject_id IS NOT NULL
      ), c AS (
        INSERT INTO attempt_counters AS ac (subject, failures, last_attempt_at, in_flight, in_flight_at)
        SELECT subject, 0, ${r.now}::timestamptz, 1, ${r.now}::timestamptz FROM k
        ON CONFLICT (subject) DO UPDATE SET
          last_attempt_at = EXCLUDED.last_attempt_at,
          prev_attempt_at = CASE WHEN ac.in_flight > 0 AND ac.in_flight_at > ${stale} THEN ac.in_flight_at END,
          in_flight = CASE WHEN ac.in_flight_at > ${stale} THEN ac.in_flight ELSE 0 END + 1,
          in_flight_at = EXCLUDED.in_flight_at
        RETURNING subject, failures, last_failure_at, locked_until, in_flight, prev_attempt_at
      )`
    : sql``;
  const scope = sql`id = ${r.id} ${r.tenantId ? sql`AND tenant_id = ${r.tenantId}` : sql``} ${r.secretHash ? sql`AND secret_hash = ${r.secretHash}` : sql``}`;
  const flowCte = r.readOnly
    ? r.interactionId && r.tenantId
      ? sql`f AS (SELECT * FROM flows WHERE tenant_id = ${r.tenantId} AND interaction_id = ${r.interactionId} ORDER BY created_at DESC LIMIT 1)`
      : sql`f AS (SELECT * FROM flows WHERE ${scope})`
    : r.spend
      ? sql`f AS (
          UPDATE flows SET attempts_left = attempts_left - 1, updated_at = ${r.now},
            in_flight = CASE WHEN in_flight_at > ${stale} THEN in_flight ELSE 0 END + 1, in_flight_at = ${r.now}
          WHERE ${scope} AND state = ANY(${[...r.states]}::text[]) AND expires_at > ${r.now} AND attempts_left > 0
          RETURNING *)`
      : sql`f AS (SELECT * FROM flows WHERE ${scope} AND state = ANY(${[...r.states]}::text[]) AND expires_at > ${r.now} AND attempts_left > 0)`;
  const hits = r.rateHits ?? [];
  const windowStart = (ms: number) => new Date(Math.floor(r.now.getTime() / ms) * ms);
  const rateCtes = hits.map((h) => {
    const start = windowStart(h.windowMs);
    const name = sql.ref(`r_${h.name}`);
    if (!h.shards) {
      return sql`, ${name} AS (
        INSERT INTO rate_windows AS rw (key, window_start, count) SELECT ${h.key}, ${start}::timestamptz, 1 FROM f
        ON CONFLICT (key, window_start) DO UPDATE SET count = rw.count + 1 RETURNING count)`;
    }
    const mine = Math.floor(Math.random() * h.shards);
    // a counter many requests share, spread over shards (no hot row): this use on one, the sum of all
    return sql`, ${name} AS (
      INSERT INTO rate_windows AS rw (key, window_start, count) SELECT ${h.key} || '#' || ${String(mine)}, ${start}::timestamptz, 1 FROM f
      ON CONFLICT (key, window_start) DO UPDATE SET count = rw.count + 1 RETURNING count, key)`;
  });
  const rateSelects = hits.map((h) => {
    const name = sql.table(`r_${h.name}`);
    const start = windowStart(h.windowMs);
    const total = h.shards
      ? sql`(SELECT count FROM ${name}) + coalesce((SELECT sum(rw.count) FROM rate_windows rw WHERE rw.window_start = ${start} AND rw.key LIKE (${h.key} || '#%') AND rw.key <> (SELECT key FROM ${name})), 0)`
      : sql`(SELECT count FROM ${name})`;
    return sql`, (${total})::int AS ${sql.ref(`x_r_${h.name}`)}`;
  });
  const res = await sql<Record<string, unknown>>`
    WITH ${flowCte}${counterCtes}${sql.join(rateCtes, sql``)}
    SELECT f.*, t.slug AS x_slug, p.version AS x_pversion, p.policy AS x_policy
      ${m ? sql`, c.subject AS x_c_subject, c.failures AS x_c_failures, c.last_failure_at AS x_c_last_failure_at, c.locked_until AS x_c_locked_until, c.in_flight AS x_c_in_flight, c.prev_attempt_at AS x_c_prev` : sql``}
      ${selects.length ? sql`, ${sql.join(selects)}` : sql``}
      ${sql.join(rateSelects, sql``)}
    FROM f
    JOIN tenants t ON t.id = f.tenant_id
    JOIN tenant_policies p ON p.tenant_id = t.id AND p.version = t.policy_version
    ${m ? sql`LEFT JOIN c ON true` : sql``}`.execute(db);
  const row = res.rows[0];
  if (!row) return undefined;
  const flow = Object.fromEntries(Object.entries(row).filter(([k]) => !k.startsWith('x_') && !k.startsWith('n_'))) as unknown as FlowRecord;
  const loaded: Loaded = {};
  const acc = row.n_account as (Omit<Account, 'graceStartedAt'> & { graceStartedAt: string | null }) | null | undefined;
  if (acc) loaded.account = { ...acc, graceStartedAt: date(acc.graceStartedAt), graceSignins: Number(acc.graceSignins), activeKinds: acc.activeKinds ?? [] };
  const cred = (row.n_credential ?? row.n_pending_credential ?? row.n_named_credential ?? row.n_phone) as
    | { id: string; material: string | null; status: string; codes?: string[] | null; usedSteps?: number[] | null; subjectId?: string; externalId?: string; signCount?: number | string; meta?: Record<string, unknown> }
    | null
    | undefined;
  if (cred) {
    loaded.credential = {
      id: cred.id,
      status: cred.status,
      material: cred.material === null ? null : Buffer.from(cred.material, 'base64'),
      ...(cred.codes ? { codes: cred.codes.map((h) => Buffer.from(h, 'hex')) } : {}),
      ...(cred.usedSteps ? { usedSteps: cred.usedSteps.map(Number) } : {}),
      ...(cred.subjectId ? { subjectId: cred.subjectId, externalId: String(cred.externalId), signCount: Number(cred.signCount ?? 0), meta: cred.meta ?? {} } : {}),
    };
  }
  if ('n_pin' in row) loaded.pinHash = (row.n_pin as string | null) ?? null;
  if ('n_questions' in row) loaded.questions = (row.n_questions as Loaded['questions']) ?? [];
  return {
    flow,
    tenantSlug: String(row.x_slug),
    policy: { version: Number(row.x_pversion), raw: row.x_policy },
    counter:
      m && row.x_c_subject
        ? {
            subject: String(row.x_c_subject),
            failures: Number(row.x_c_failures),
            lastFailureAt: date(row.x_c_last_failure_at),
            lockedUntil: date(row.x_c_locked_until),
            inFlight: Number(row.x_c_in_flight),
            prevClaimAt: date(row.x_c_prev),
          }
        : null,
    loaded,
    ...(row.n_customer ? { customer: overview(row.n_customer)! } : {}),
    ...(row.n_template ? { template: row.n_template as TemplateSource } : {}),
    rates: Object.fromEntries(hits.map((h) => [h.name, { count: Number(row[`x_r_${h.name}`] ?? 0), resetAt: new Date(windowStart(h.windowMs).getTime() + h.windowMs) }])),
  };
}

/**
 * What starting a caller verification reads, in one statement: the tenant's policy, the customer's
 * overview and the velocity counts (verifications of this customer, and from this number, since).
 */
export async function readForStart(db: Db, a: { tenantId: string; customerId: string; ani: string | null; since: Date }): Promise<{ policy: { version: number; raw: unknown }; tenantSlug: string; customer: CustomerOverview | undefined; forCustomer: number; fromAni: number } | undefined> {
  const r = await sql<Record<string, unknown>>`
    WITH f AS (SELECT ${a.tenantId}::uuid AS tenant_id, ${a.customerId}::uuid AS subject_id)
    SELECT t.slug AS x_slug, p.version AS x_pversion, p.policy AS x_policy,
           ${needSql('customer', { id: '', states: [], now: a.since, spend: false })} AS n_customer,
           (SELECT count(*) FROM flows v WHERE v.tenant_id = f.tenant_id AND v.subject_id = f.subject_id AND v.kind = 'verification' AND v.created_at >= ${a.since})::int AS x_for_customer,
           (SELECT count(*) FROM flows v WHERE v.tenant_id = f.tenant_id AND v.caller_ani = ${a.ani} AND v.created_at >= ${a.since})::int AS x_from_ani
    FROM f JOIN tenants t ON t.id = f.tenant_id JOIN tenant_policies p ON p.tenant_id = t.id AND p.version = t.policy_version`.execute(db);
  const row = r.rows[0];
  if (!row) return undefined;
  return {
    policy: { version: Number(row.x_pversion), raw: row.x_policy },
    tenantSlug: String(row.x_slug),
    customer: overview(row.n_customer),
    forCustomer: Number(row.x_for_customer),
    fromAni: Number(row.x_from_ani),
  };
}

function overview(v: unknown): CustomerOverview | undefined {
  const cu = v as (Omit<CustomerOverview, 'createdAt' | 'contacts'> & { createdAt: string; contacts: Array<{ id: string; kind: 'phone' | 'email'; value: string; changedAt: string }> }) | null | undefined;
  return cu ? { ...cu, createdAt: new Date(cu.createdAt), questionCount: Number(cu.questionCount), contacts: cu.contacts.map((c) => ({ ...c, changedAt: new Date(c.changedAt) })) } : undefined;
}
