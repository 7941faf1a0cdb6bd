/**
 * The `callwarden` command: serve, migrate, admin create, tenant create/list, user
 * invite/list/disable, audit verify/export, outbox list, customers import, ivr simulate. Commands
 * that touch data open the store named by the configuration (the embedded store by default,
 * DATABASE_URL for PostgreSQL).
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig } from '../config/load.js';
import { AppError } from '../domain/errors.js';
import { CliExit, EXIT, processIo, type CliIo } from './io.js';
import { registerAdminCommands } from './commands/admin.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerCustomerCommands } from './commands/customers.js';
import { registerIvrCommands } from './commands/ivr.js';
import { registerServeCommands } from './commands/serve.js';

export function buildProgram(io: CliIo): Command {
  const program = new Command('callwarden')
    .description('Multi-factor authentication for contact centers: staff sign-in and caller verification.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  const config = () => loadConfig(io.env);
  registerServeCommands(program, io, config);
  registerAdminCommands(program, io, config);
  registerAuditCommands(program, io, config);
  registerCustomerCommands(program, io, config);
  registerIvrCommands(program, io, config);
  return program;
}

/** Runs the CLI; returns the exit code instead of exiting (bin/callwarden.js sets it). */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync(argv);
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (e instanceof CliExit) {
      if (e.message) io.err(`callwarden: ${e.message}`);
      return e.code;
    }
    if (e instanceof ConfigError) {
      io.err(`callwarden: ${e.message}`);
      return EXIT.usage;
    }
    if (e instanceof AppError) {
      const reasons = (e.detail?.reasons as Array<{ message: string }> | undefined)?.map((r) => r.message).join(' ');
      io.err(`callwarden: ${e.message}${reasons && !e.message.includes(reasons) ? ` ${reasons}` : ''} (${e.code})`);
      return e.status === 404 || e.status === 409 ? EXIT.refused : EXIT.usage;
    }
    io.err(`callwarden: ${(e as Error).message}`);
    return EXIT.failure;
  }
}
