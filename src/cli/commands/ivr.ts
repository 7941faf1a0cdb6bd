/**
 * ivr simulate: an interactive terminal IVR for demos and tests, driven in-process through the same
 * IVR script as the step API and the Twilio webhooks. Prompts are printed as text; each line read
 * from standard input is one entry of keyed digits (`#` may end it, `*` alone asks for a new code).
 * The code goes to the customer like any code (the outbox; in dev mode `callwarden outbox list`) and
 * is never printed. Exit 0 when the caller is verified, 1 otherwise (failed, transferred, hung up).
 */
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { Config } from '../../config/load.js';
import { ivrDigits, type IvrPrompt } from '../../flows/ivr-script.js';
import { normalizeAni, startIvrVerification } from '../../flows/ivr-start.js';
import type { Actor } from '../../flows/verification.js';
import { cliOrigin, type Services } from '../../services/context.js';
import { CliExit, EXIT, type CliIo } from '../io.js';
import { withServices } from './with-services.js';

interface Options {
  tenant: string;
  customer?: string;
  ani?: string;
  interaction?: string;
  level?: string;
  attestation?: string;
}

const actor: Actor = { type: 'cli', id: 'ivr-simulator' };

export function registerIvrCommands(program: Command, io: CliIo, config: () => Config): void {
  const ivr = program.command('ivr').description('The IVR (interactive voice response) side of caller verification');
  ivr
    .command('simulate')
    .description('Play the IVR in the terminal: prompts as text, one line of digits per entry; exit 0 when verified, 1 otherwise')
    .requiredOption('--tenant <slug>', 'tenant')
    .option('--customer <externalId>', 'the caller, by CRM id')
    .option('--ani <number>', 'the calling number (E.164); finds the caller among on-file phones when --customer is not given')
    .option('--interaction <id>', 'interaction (call) id; the agent sees the result on it (default: a new sim-... id)')
    .option('--level <name>', 'verification level (default: the policy default)')
    .option('--attestation <A|B|C>', 'STIR/SHAKEN attestation of the call')
    .action(async (o: Options) => {
      if (!o.customer && !o.ani) throw new CliExit(EXIT.usage, 'give --customer EXTERNAL_ID or --ani +1...');
      if (o.ani && !normalizeAni(o.ani)) throw new CliExit(EXIT.usage, `--ani: "${o.ani}" is not a phone number`);
      if (o.attestation && !/^[ABC]$/.test(o.attestation)) throw new CliExit(EXIT.usage, '--attestation must be A, B or C');
      const result = io.services ? await simulate(io.services, io, o) : await withServices(config, (s) => simulate(s, io, o));
      if (result !== 'verified') throw new CliExit(EXIT.failure, `not verified (${result})`);
    });
}

async function simulate(s: Services, io: CliIo, o: Options): Promise<string> {
  const tenant = await s.store.tenants.bySlug(o.tenant.toLowerCase());
  if (!tenant || tenant.is_platform) throw new CliExit(EXIT.refused, `no tenant "${o.tenant}"`);
  const interactionId = o.interaction ?? `sim-${randomBytes(6).toString('hex')}`;
  const started = await startIvrVerification(s, {
    tenantId: tenant.id,
    lookup: o.customer ? { externalId: o.customer, ...(o.ani ? { callerAni: o.ani } : {}) } : { callerAni: o.ani },
    interactionId,
    ...(o.level ? { level: o.level } : {}),
    attestation: (o.attestation as 'A' | 'B' | 'C' | undefined) ?? null,
    actor,
    origin: cliOrigin,
  });
  io.out(`IVR simulator: tenant ${tenant.slug}, interaction ${interactionId}, verification ${started.verification.id}`);
  io.out('Key the digits and press Enter (# may end an entry; an empty line repeats the prompt; q hangs up).');
  const rl = createInterface({ input: io.stdin ?? process.stdin, terminal: false, crlfDelay: Infinity });
  const lines = rl[Symbol.asyncIterator](); // created at once so no line typed ahead is lost
  try {
    let p: IvrPrompt = started.prompt;
    while (!p.done) {
      io.out(`IVR: ${p.prompt}`);
      const next = await lines.next();
      const entry = next.done ? 'q' : String(next.value).trim();
      if (entry.toLowerCase() === 'q') {
        io.out('(caller hung up)');
        return 'hung up';
      }
      if (!entry) continue;
      const r = await ivrDigits(s, { tenantId: tenant.id, id: started.verification.id, digits: entry, actor, origin: cliOrigin });
      if (r.sent) io.out(`(a code was sent to ${r.sent.destination}; in dev mode read it with \`callwarden outbox list\`)`);
      p = r;
    }
    io.out(`IVR: ${p.prompt}`);
    io.out(`result: ${p.result} (methods: ${p.completedMethods.join(', ') || 'none'})`);
    return p.result ?? 'unknown';
  } finally {
    rl.close();
  }
}
