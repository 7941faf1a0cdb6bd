/** Output and exit codes of the CLI, injectable so tests drive commands in-process. */
import type { Services } from '../services/context.js';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: Record<string, string | undefined>;
  /** Raw standard error for in-place output (progress bars); drawn only when it is a TTY. */
  stderr?: { write(chunk: string): unknown; isTTY?: boolean };
  /** Standard input, read line by line by interactive commands (`ivr simulate`). */
  stdin?: NodeJS.ReadableStream;
  /** An already open service context (tests): interactive commands use it and leave it open. */
  services?: Services;
}

export const processIo: CliIo = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
  env: process.env,
  stderr: process.stderr,
  get stdin() {
    return process.stdin; // only touched by commands that read it
  },
};

/** Exit codes: 0 ok, 1 failure (e.g. audit chain broken), 2 usage or configuration error, 3 not found / refused. */
export const EXIT = { ok: 0, failure: 1, usage: 2, refused: 3 } as const;

export class CliExit extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}
