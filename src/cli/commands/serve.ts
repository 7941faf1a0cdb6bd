/** serve and migrate. */
import type { Command } from 'commander';
import type { Config } from '../../config/load.js';
import { startServer } from '../../server.js';
import { openDatabase } from '../../storage/db.js';
import { migrate } from '../../storage/migrate.js';
import type { CliIo } from '../io.js';

export function registerServeCommands(program: Command, io: CliIo, config: () => Config): void {
  program
    .command('serve')
    .description('Run the HTTP server (migrations are applied at start)')
    .action(async () => {
      const running = await startServer(config());
      await new Promise<void>((resolve) => {
        const stop = () => {
          running.stop().finally(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });

  program
    .command('migrate')
    .description('Apply pending database migrations (once, under a lock) and exit')
    .action(async () => {
      const c = config();
      const database = await openDatabase({ url: c.databaseUrl || undefined, dataDir: c.dataDir });
      try {
        const applied = await migrate(database.db);
        io.out(applied.length ? `applied: ${applied.join(', ')}` : 'up to date');
      } finally {
        await database.close();
      }
    });
}
