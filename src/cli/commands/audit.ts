/** audit verify / export. */
import type { Command } from 'commander';
import { exportEvents } from '../../audit/query.js';
import { sealAll } from '../../audit/seal.js';
import { formatReport, verifyChain } from '../../audit/verify.js';
import type { Config } from '../../config/load.js';
import { cliOrigin } from '../../services/context.js';
import { audit } from '../../services/audit-log.js';
import { CliExit, EXIT, type CliIo } from '../io.js';
import { withServices } from './with-services.js';

export function registerAuditCommands(program: Command, io: CliIo, config: () => Config): void {
  const cmd = program.command('audit').description('The tamper-evident audit log');
  cmd
    .command('verify')
    .description('Seal pending events, then verify every hash chain; exit 1 naming each edited, deleted or reordered event')
    .option('--tenant <slug>', 'only this tenant')
    .option('--no-seal', 'verify without sealing pending events first')
    .option('--json', 'print the report as JSON')
    .action(async (o: { tenant?: string; seal: boolean; json?: boolean }) => {
      const ok = await withServices(config, async (s) => {
        const t = o.tenant ? await s.store.tenants.bySlug(o.tenant) : undefined;
        if (o.tenant && !t) throw new CliExit(EXIT.refused, `no tenant "${o.tenant}"`);
        if (o.seal) await sealAll(s.store.db);
        const report = await verifyChain(s.store.db, t ? { tenantId: t.id } : {});
        io.out(o.json ? JSON.stringify(report, null, 2) : formatReport(report));
        return report.ok;
      });
      if (!ok) throw new CliExit(EXIT.failure, 'audit chain verification FAILED');
    });
  cmd
    .command('export')
    .description('Print audit events as JSON lines, oldest first')
    .requiredOption('--tenant <slug>', 'tenant')
    .option('--from <iso>', 'from this time (inclusive)')
    .option('--to <iso>', 'to this time (exclusive)')
    .option('--type <type>', 'only this event type')
    .action(async (o: { tenant: string; from?: string; to?: string; type?: string }) => {
      await withServices(config, async (s) => {
        const t = await s.store.tenants.bySlug(o.tenant);
        if (!t) throw new CliExit(EXIT.refused, `no tenant "${o.tenant}"`);
        const from = o.from ? new Date(o.from) : undefined;
        const to = o.to ? new Date(o.to) : undefined;
        if ((from && isNaN(from.getTime())) || (to && isNaN(to.getTime()))) throw new CliExit(EXIT.usage, '--from/--to must be ISO dates');
        await audit(s, { tenantId: t.id, type: 'audit.exported', outcome: 'success', actor: { type: 'cli' }, target: { type: 'audit_log', id: t.id }, origin: cliOrigin, data: { from: o.from ?? null, to: o.to ?? null, type: o.type ?? null } });
        for await (const line of exportEvents(s.store.db, { tenantId: t.id, from, to, type: o.type })) io.out(line.trimEnd());
      });
    });
}
