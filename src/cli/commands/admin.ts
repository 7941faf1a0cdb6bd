/** admin create, tenant create/list, user invite/list/disable, outbox list. */
import type { Command } from 'commander';
import type { Config } from '../../config/load.js';
import { cliOrigin } from '../../services/context.js';
import { createOperator, createTenant, publicTenant } from '../../services/tenants.js';
import { disableUser, inviteUser } from '../../services/users.js';
import { mfaModes, type MfaMode } from '../../domain/policy.js';
import { normalizeIdentifier } from '../../domain/identifiers.js';
import { CliExit, EXIT, type CliIo } from '../io.js';
import { withServices } from './with-services.js';
import type { Services } from '../../services/context.js';

const cliActor = { type: 'cli' as const, id: null };

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function tenantOrExit(s: Services, slug: string) {
  const t = await s.store.tenants.bySlug(slug.toLowerCase());
  if (!t) throw new CliExit(EXIT.refused, `no tenant "${slug}"`);
  return t;
}

export function registerAdminCommands(program: Command, io: CliIo, config: () => Config): void {
  const admin = program.command('admin').description('Platform operators');
  admin
    .command('create')
    .description('Create a platform operator (and the platform tenant on an empty store)')
    .requiredOption('--email <email>', 'operator email')
    .option('--password <password>', 'password (prefer --password-stdin: command lines end up in shell history)')
    .option('--password-stdin', 'read the password from standard input')
    .action(async (o: { email: string; password?: string; passwordStdin?: boolean }) => {
      const password = o.passwordStdin ? await readStdin() : (o.password ?? io.env.CALLWARDEN_ADMIN_PASSWORD);
      if (!password) throw new CliExit(EXIT.usage, 'give --password-stdin, --password or CALLWARDEN_ADMIN_PASSWORD');
      await withServices(config, async (s) => {
        const r = await createOperator(s, { email: o.email, password, origin: cliOrigin });
        io.out(`operator ${o.email} created (${r.userId}); sign in to tenant "platform"`);
      });
    });

  const tenant = program.command('tenant').description('Tenants');
  tenant
    .command('create')
    .description('Create a tenant')
    .requiredOption('--slug <slug>', 'short name used at sign-in, e.g. acme')
    .option('--name <name>', 'display name')
    .option('--mfa <mode>', `MFA switch: ${mfaModes.join(' | ')}`, 'optional')
    .option('--admin <email>', 'invite this person as the tenant administrator')
    .action(async (o: { slug: string; name?: string; mfa: string; admin?: string }) => {
      if (!(mfaModes as readonly string[]).includes(o.mfa)) throw new CliExit(EXIT.usage, `--mfa must be one of ${mfaModes.join(', ')}`);
      await withServices(config, async (s) => {
        const r = await createTenant(s, { slug: o.slug, name: o.name ?? o.slug, mfaMode: o.mfa as MfaMode, adminEmail: o.admin, actor: cliActor, origin: cliOrigin });
        io.out(`tenant ${r.tenant.slug} created (${r.tenant.id}), MFA ${o.mfa}`);
        if (r.admin) io.out(`invited ${r.admin.email} as tenant_admin; the setup link is in the outbox (callwarden outbox list --tenant ${r.tenant.slug})`);
      });
    });
  tenant
    .command('list')
    .description('List tenants')
    .option('--json', 'JSON lines')
    .action(async (o: { json?: boolean }) => {
      await withServices(config, async (s) => {
        for (const t of await s.store.tenants.list()) io.out(o.json ? JSON.stringify(publicTenant(t)) : `${t.slug}\t${t.name}\t${t.id}${t.is_platform ? '\t(platform)' : ''}`);
      });
    });

  const user = program.command('user').description('Staff users of a tenant');
  user
    .command('invite')
    .description('Invite a user; a one-time setup link goes to the outbox')
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--email <email>', 'email')
    .option('--role <role...>', 'roles (agent, supervisor, tenant_admin, auditor or custom)', ['agent'])
    .option('--name <name>', 'display name')
    .action(async (o: { tenant: string; email: string; role: string[]; name?: string }) => {
      await withServices(config, async (s) => {
        const t = await tenantOrExit(s, o.tenant);
        const r = await inviteUser(s, { tenant: t, email: o.email, displayName: o.name, roles: o.role, actor: cliActor, origin: cliOrigin });
        io.out(`invited ${r.user.email} (${r.user.id}) with roles ${r.user.roles.join(', ')}; setup link queued in the outbox`);
      });
    });
  user
    .command('list')
    .description('List users of a tenant')
    .requiredOption('--tenant <slug>', 'tenant')
    .option('--json', 'JSON lines')
    .action(async (o: { tenant: string; json?: boolean }) => {
      await withServices(config, async (s) => {
        const t = await tenantOrExit(s, o.tenant);
        for (const u of await s.store.users.list(t.id, { limit: 10_000 })) {
          io.out(o.json ? JSON.stringify({ id: u.id, email: u.email, roles: u.roles, status: u.status }) : `${u.email}\t${u.status}\t${u.roles.join(',')}\t${u.id}`);
        }
      });
    });
  user
    .command('disable')
    .description('Disable a user: every session ends at once')
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--email <email>', 'email')
    .action(async (o: { tenant: string; email: string }) => {
      await withServices(config, async (s) => {
        const t = await tenantOrExit(s, o.tenant);
        const u = await s.store.users.byEmail(t.id, normalizeIdentifier(o.email));
        if (!u) throw new CliExit(EXIT.refused, `no user ${o.email} in ${o.tenant}`);
        const r = await disableUser(s, { tenantId: t.id, userId: u.id, actor: cliActor, origin: cliOrigin });
        io.out(`disabled ${u.email}; ${r.sessionsRevoked} session(s) revoked`);
      });
    });

  program
    .command('outbox')
    .description('Outgoing messages (dev mode: read setup links here)')
    .command('list')
    .option('--tenant <slug>', 'only this tenant')
    .option('--to <recipient>', 'only messages to this recipient')
    .option('--limit <n>', 'how many', '20')
    .action(async (o: { tenant?: string; to?: string; limit: string }) => {
      await withServices(config, async (s) => {
        const t = o.tenant ? await tenantOrExit(s, o.tenant) : undefined;
        // production: a message waiting to be sent shows as sealed, never its code or link
        const rows = await s.store.outbox.list({ tenantId: t?.id, recipient: o.to ? normalizeIdentifier(o.to) : undefined, limit: Number(o.limit) || 20, reveal: s.config.mode !== 'production' });
        for (const m of rows) io.out(`--- ${m.created_at.toISOString()} ${m.channel} to ${m.recipient} [${m.status}]\nSubject: ${m.subject}\n\n${m.body}\n`);
        if (rows.length === 0) io.out('outbox is empty');
      });
    });
}
