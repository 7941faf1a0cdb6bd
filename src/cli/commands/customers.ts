/** customers import: bulk import from CSV or JSON lines with a progress bar on standard error. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Config } from '../../config/load.js';
import { formatOfFile, importFormats, type ImportFormat } from '../../customers/import-format.js';
import { cliOrigin } from '../../services/context.js';
import { importCustomers } from '../../services/customer-import.js';
import { CliExit, EXIT, type CliIo } from '../io.js';
import { progressBar } from '../progress.js';
import { withServices } from './with-services.js';

const MAX_LISTED = 1000;

export function registerCustomerCommands(program: Command, io: CliIo, config: () => Config): void {
  const customers = program.command('customers').description('Customers (callers) of a tenant');
  customers
    .command('import')
    .description('Import customers from a CSV (header row) or JSON lines file; exit 1 listing the lines that failed')
    .argument('<file>', 'the file to import')
    .requiredOption('--tenant <slug>', 'tenant')
    .option('--format <format>', `${importFormats.join(' | ')} (default: from the file extension)`)
    .option('--region <cc>', 'region for phone numbers written without a country code', 'US')
    .action(async (file: string, o: { tenant: string; format?: string; region: string }) => {
      const format = (o.format ?? formatOfFile(file)) as ImportFormat | undefined;
      if (!format || !(importFormats as readonly string[]).includes(format)) throw new CliExit(EXIT.usage, `give --format ${importFormats.join('|')} (cannot tell from "${file}")`);
      if (!/^[A-Za-z]{2}$/.test(o.region)) throw new CliExit(EXIT.usage, '--region must be a two-letter region code such as US');
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        throw new CliExit(EXIT.usage, `cannot read ${file}: ${(e as Error).message}`);
      }
      const r = await withServices(config, async (s) => {
        const t = await s.store.tenants.bySlug(o.tenant.toLowerCase());
        if (!t) throw new CliExit(EXIT.refused, `no tenant "${o.tenant}"`);
        const bar = progressBar(io.stderr, 'importing');
        try {
          return await importCustomers(s, { tenantId: t.id, format, text, region: o.region, actor: { type: 'cli', id: null }, origin: cliOrigin, onProgress: (d, n) => bar.update(d, n) });
        } finally {
          bar.finish();
        }
      });
      io.out(`imported ${file}: ${r.created} created, ${r.updated} updated, ${r.errors.length} failed`);
      if (r.errors.length === 0) return;
      for (const e of r.errors.slice(0, MAX_LISTED)) io.err(`line ${e.line}: ${e.message}`);
      if (r.errors.length > MAX_LISTED) io.err(`... and ${r.errors.length - MAX_LISTED} more`);
      throw new CliExit(EXIT.failure, `${r.errors.length} line(s) failed; the other lines were imported`);
    });
}
