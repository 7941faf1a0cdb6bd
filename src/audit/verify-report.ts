/** The verification report in words: one line per tenant, one indented line per problem, a verdict. */
import type { VerifyReport } from './verify.js';

export function formatReport(report: VerifyReport): string {
  const lines: string[] = [];
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  for (const t of report.tenants) {
    const checked = t.problems.length === 0 ? `${plural(t.sealed, 'sealed event')} verified` : `${plural(t.sealed, 'sealed event')} checked, ${plural(t.problems.length, 'problem')}`;
    const out = t.quarantined ? `, ${t.quarantined} left out of the chain (no valid MAC)` : '';
    lines.push(`tenant ${t.tenantId}: ${checked}, ${t.unsealed} not yet sealed${out}`);
    if (t.checkpoint) {
      const c = t.checkpoint;
      lines.push(`  checkpoint: seq ${c.seq} sealed ${c.sealedAt} (key ${c.keyId}, ${c.source === 'file' ? 'from the checkpoint file' : 'the signed head'})`);
    }
    for (const p of t.problems) {
      const where = p.eventId === null ? 'chain head' : p.chainSeq === null ? `event ${p.eventId} (unsealed)` : `event ${p.eventId} (seq ${p.chainSeq})`;
      lines.push(`  ${where}: ${p.kind}: ${p.detail}`);
    }
  }
  const cps = report.checkpoints;
  if (cps) {
    lines.push(`checkpoints ${cps.file}: ${plural(cps.lines, 'line')} read`);
    for (const p of cps.problems) lines.push(`  line ${p.line}: invalid checkpoint: ${p.detail}`);
  }
  if (report.tenants.length === 0 && !cps?.problems.length) lines.push('no audit events');
  else if (report.ok) lines.push(`audit chain intact (${plural(report.tenants.length, 'tenant')})`);
  else {
    const bad = report.tenants.filter((t) => t.problems.length > 0);
    const count = bad.reduce((n, t) => n + t.problems.length, 0) + (cps?.problems.length ?? 0);
    lines.push(`audit chain BROKEN: ${plural(count, 'problem')} in ${plural(bad.length, 'tenant')}${cps?.problems.length ? ` and the checkpoint file` : ''}`);
  }
  if (report.tenants.some((t) => t.macs === 'unchecked')) lines.push('(MACs and head signatures not checked: no keys given)');
  return lines.join('\n');
}
