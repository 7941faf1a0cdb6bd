/**
 * audit verify / seal / export.
 *
 * `audit verify` only reads: it checks every event's MAC, the hash chains, the signed heads and,
 * with --checkpoints (default: CALLWARDEN_AUDIT_CHECKPOINTS), each chain against its newest
 * checkpoint. Exit codes: 0 intact, 1 a problem found (each one named), 2 usage or configuration
 * error (a checkpoint file that cannot be read included), 3 unknown tenant. `--seal`, or `audit
 * seal`, seals pending events first: the only writing these commands do.
 */
import type { Command } from 'commander';
import { readCheckpoints, type CheckpointSet } from '../../audit/checkpoint.js';
import { auditKeys } from '../../audit/keys.js';
import { exportEvents } from '../../audit/query.js';
import { sealAll, sealTenant, sealerFor } from '../../audit/seal.js';
import { formatReport, verifyChain } from '../../audit/verify.js';
import type { Config } from '../../config/load.js';
import { cliOrigin, type Services } from '../../services/context.js';
import { audit } from '../../services/audit-log.js';
import { CliExit, EXIT, type CliIo } from '../io.js';
import { withServices } from './with-services.js';

export function registerAuditCommands(program: Command, io: CliIo, config: () => Config): void {
  const cmd = program.command('audit').description('The tamper-evident audit log');
  /** Commands use the service context the caller opened (tests), or open one. */
  const run = <T>(fn: (s: Services) => Promise<T>): Promise<T> => (io.services ? fn(io.services) : withServices(config, fn));
  const tenantOf = async (s: Services, slug: string | undefined) => {
    if (!slug) return undefined;
    const t = await s.store.tenants.bySlug(slug);
    if (!t) throw new CliExit(EXIT.refused, `no tenant "${slug}"`);
    return t;
  };
  /** Seals pending events (and prints each checkpoint as a JSON line when asked). */
  const seal = async (s: Services, tenantId: string | undefined, print: boolean) => {
    const base = sealerFor(s);
    const ctx = { ...base, onCheckpoint: async (cp: Parameters<NonNullable<typeof base.onCheckpoint>>[0]) => {
      await base.onCheckpoint?.(cp);
      if (print) io.out(JSON.stringify(cp));
    } };
    return tenantId ? sealTenant(ctx, tenantId) : sealAll(ctx);
  };

  cmd
    .command('verify')
    .description('Verify every event MAC, hash chain and signed head, and each chain against its newest checkpoint; reads only. Exit 0 intact, 1 problems found (each named), 2 usage, 3 unknown tenant')
    .option('--tenant <slug>', 'only this tenant')
    .option('--checkpoints <file>', 'checkpoint file (JSON lines) to hold the chains to (default: CALLWARDEN_AUDIT_CHECKPOINTS)')
    .option('--seal', 'seal pending events first (writes: the maintenance step `audit seal` does)')
    .option('--json', 'print the report as JSON')
    .action(async (o: { tenant?: string; checkpoints?: string; seal?: boolean; json?: boolean }) => {
      const ok = await run(async (s) => {
        const t = await tenantOf(s, o.tenant);
        const keys = auditKeys(s.config);
        const path = o.checkpoints ?? (s.config.auditCheckpoints || undefined);
        let checkpoints: CheckpointSet | undefined;
        if (path) {
          try {
            checkpoints = await readCheckpoints(keys, path);
          } catch (e) {
            // the configured file may not exist before the first seal; a file named here must
            if (o.checkpoints || (e as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliExit(EXIT.usage, `cannot read the checkpoint file ${path}: ${(e as Error).message}`);
          }
        }
        if (o.seal) await seal(s, t?.id, false);
        const report = await verifyChain(s.store.db, { ...(t ? { tenantId: t.id } : {}), keys, checkpoints });
        io.out(o.json ? JSON.stringify(report, null, 2) : formatReport(report));
        if (!checkpoints && !o.json) io.out('(no checkpoint file: a chain rewound to an earlier signed head cannot be told apart; pass --checkpoints FILE)');
        return report.ok;
      });
      if (!ok) throw new CliExit(EXIT.failure, 'audit chain verification FAILED');
    });

  cmd
    .command('seal')
    .description('Maintenance: seal pending events into the chains now (what the server does in the background); prints each new signed checkpoint as a JSON line')
    .option('--tenant <slug>', 'only this tenant')
    .action(async (o: { tenant?: string }) => {
      await run(async (s) => {
        const t = await tenantOf(s, o.tenant);
        await seal(s, t?.id, true);
      });
    });

  cmd
    .command('export')
    .description('Print audit events as JSON lines, oldest first')
    .requiredOption('--tenant <slug>', 'tenant')
    .option('--from <iso>', 'from this time (inclusive)')
    .option('--to <iso>', 'to this time (exclusive)')
    .option('--type <type>', 'only this event type')
    .action(async (o: { tenant: string; from?: string; to?: string; type?: string }) => {
      await run(async (s) => {
        const t = (await tenantOf(s, o.tenant))!;
        const from = o.from ? new Date(o.from) : undefined;
        const to = o.to ? new Date(o.to) : undefined;
        if ((from && isNaN(from.getTime())) || (to && isNaN(to.getTime()))) throw new CliExit(EXIT.usage, '--from/--to must be ISO dates');
        await audit(s, { tenantId: t.id, type: 'audit.exported', outcome: 'success', actor: { type: 'cli' }, target: { type: 'audit_log', id: t.id }, origin: cliOrigin, data: { from: o.from ?? null, to: o.to ?? null, type: o.type ?? null } });
        for await (const line of exportEvents(s.store.db, { tenantId: t.id, from, to, type: o.type })) io.out(line.trimEnd());
      });
    });
}
