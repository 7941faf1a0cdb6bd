/**
 * The floor of bench/verification.ts: a bare Fastify server with the three routes of a verification
 * flow, each running the SAME SQL statements per request as Callwarden's (the texts recorded from a
 * real flow, see lib/verification-sql.ts), in the same order, on the same database and the same kind
 * of connection (a pg.Pool of the same size, or the server's own PGlite adapter), BEGIN/COMMIT
 * included, with the parameters a real flow would pass.
 *
 * What it does besides the SQL is the least a working flow needs: read the bearer token and hash it
 * (SHA-256), take the customer/contact/interaction from the body and the verification from the path,
 * make a 6-digit code and its HMAC, carry ids from one statement's row to the next (harvest), compare
 * the code's HMAC on check, and answer 401/404/409/400 when a statement finds nothing where the real
 * flow found something. No schema validation, no policy evaluation, no risk scoring, no view
 * building, no template rendering, no JWS signing, no audit sealing, no logging.
 *
 *   POST /v1/tenants/:tenant/verifications                  {customerId, interactionId}  -> 201 {id}
 *   POST /v1/tenants/:tenant/verifications/:id/codes        {contactId, channel}         -> 200 {sent: true}
 *   POST /v1/tenants/:tenant/verifications/:id/codes/check  {code}                       -> 200 {state: 'verified'}
 *
 * Each answer carries `x-sql-statements` (statements run), as Callwarden's dev mode does.
 */
import { createHash, createHmac, randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { resolveParam, type Entities, type SqlClient, type SqlRunner, type StatementTemplate, type Step } from './lib/verification-sql.js';

export type FloorTemplates = Record<Step, StatementTemplate[]>;

class Refused extends Error {
  constructor(readonly status: number, readonly code: string) {
    super(code);
  }
}

export interface Floor {
  url: string;
  close(): Promise<void>;
}

export async function startFloor(o: { runner: SqlRunner; templates: FloorTemplates; host?: string }): Promise<Floor> {
  const { runner, templates } = o;
  const key = randomBytes(32);
  const codeHash = (verificationId: string, code: string) => createHmac('sha256', key).update(`${verificationId}:${code}`).digest();

  /** Runs the step's statements; `after` may refuse once an entity it checks has arrived. */
  async function replay(step: Step, ctx: Entities, after?: (ctx: Entities) => void): Promise<number> {
    const now = Date.now();
    const fresh = new Map<string, string>();
    let tx: SqlClient | undefined;
    let n = 0;
    try {
      for (const st of templates[step]) {
        const params = st.params.map((p) => resolveParam(p, ctx, fresh, now, randomUUID));
        let r: { rows: Array<Record<string, unknown>>; rowCount: number | null };
        if (st.kind === 'begin') {
          tx = await runner.connect();
          r = await tx.query(st.sql, params);
        } else if (tx) {
          r = await tx.query(st.sql, params);
          if (st.kind === 'commit') {
            tx.release();
            tx = undefined;
          }
        } else {
          const c = await runner.connect();
          try {
            r = await c.query(st.sql, params);
          } finally {
            c.release();
          }
        }
        n++;
        if (st.expectRows && r.rows.length === 0 && !r.rowCount) throw new Refused(n === 1 ? 401 : 409, `nothing from statement ${n} (${st.label})`);
        const row = r.rows[0];
        if (row) for (const h of st.harvest) ctx[h.ent] = row[h.column] as string | Buffer;
        after?.(ctx);
      }
      return n;
    } catch (e) {
      if (tx) {
        await tx.query('rollback', []).catch(() => undefined);
        tx.release();
      }
      throw e;
    }
  }

  const bearer = (req: FastifyRequest): Buffer => {
    const h = req.headers.authorization;
    if (!h?.startsWith('Bearer ')) throw new Refused(401, 'unauthenticated');
    return createHash('sha256').update(h.slice(7).trim()).digest();
  };
  const str = (v: unknown, name: string): string => {
    if (typeof v !== 'string' || v.length === 0 || v.length > 200) throw new Refused(400, `invalid ${name}`);
    return v;
  };
  const handle = (fn: (req: FastifyRequest, body: Record<string, unknown>) => Promise<{ status: number; statements: number; body: unknown }>) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      try {
        const r = await fn(req, (req.body ?? {}) as Record<string, unknown>);
        return reply.status(r.status).header('x-sql-statements', String(r.statements)).send(r.body);
      } catch (e) {
        if (e instanceof Refused) return reply.status(e.status).send({ error: { code: e.code } });
        throw e;
      }
    };

  const app = Fastify({ logger: false });
  app.post('/v1/tenants/:tenant/verifications', handle(async (req, body) => {
    const ctx: Entities = { tokenHash: bearer(req), customerId: str(body.customerId, 'customerId'), interactionId: str(body.interactionId, 'interactionId'), verificationId: randomUUID() };
    const statements = await replay('start', ctx);
    return { status: 201, statements, body: { id: ctx.verificationId, state: 'pending' } };
  }));
  app.post('/v1/tenants/:tenant/verifications/:id/codes', handle(async (req, body) => {
    const verificationId = (req.params as { id: string }).id;
    const contactId = str(body.contactId, 'contactId');
    if (body.channel !== 'email') throw new Refused(400, 'invalid channel');
    let code = '';
    for (let i = 0; i < 6; i++) code += String(randomInt(10));
    const ctx: Entities = { tokenHash: bearer(req), verificationId, contactId, code, codeId: randomUUID(), codeHash: codeHash(verificationId, code) };
    const statements = await replay('send', ctx, (c) => {
      // the contacts statement hands back the customer's contact: it must be the one asked for
      if (c.contactValue !== undefined && c.contactId !== contactId) throw new Refused(404, 'not an on-file contact');
    });
    return { status: 200, statements, body: { sent: true, channel: 'email', contactId } };
  }));
  app.post('/v1/tenants/:tenant/verifications/:id/codes/check', handle(async (req, body) => {
    const verificationId = (req.params as { id: string }).id;
    const code = str(body.code, 'code');
    const ctx: Entities = { tokenHash: bearer(req), verificationId, code };
    let checked = false;
    const statements = await replay('check', ctx, (c) => {
      // the code row arrives with its HMAC: compare before the code is spent
      if (!checked && Buffer.isBuffer(c.codeHash)) {
        checked = true;
        const want = codeHash(verificationId, code);
        if (c.codeHash.length !== want.length || !timingSafeEqual(c.codeHash, want)) throw new Refused(400, 'invalid_code');
      }
    });
    if (!checked) throw new Refused(409, 'no code');
    return { status: 200, statements, body: { id: verificationId, state: 'verified' } };
  }));
  const url = await app.listen({ host: o.host ?? '127.0.0.1', port: 0 });
  return { url, close: () => app.close() };
}
