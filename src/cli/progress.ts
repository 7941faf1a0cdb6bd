/**
 * A small progress bar for long CLI commands, redrawn in place on standard error (at most ten times
 * a second) when that is a terminal, and silent otherwise so logs and pipes stay clean:
 *   importing [██████████░░░░░░░░░░]  52% 1040/2000 rows 1.2s
 */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export interface Progress {
  update(done: number, total: number): void;
  finish(): void;
}

export function progressBar(stream: ProgressStream | undefined, label: string, opts: { width?: number; unit?: string; clock?: () => number } = {}): Progress {
  const clock = opts.clock ?? Date.now;
  const width = opts.width ?? 24;
  const started = clock();
  let last = -Infinity;
  let drawn = false;
  const draw = (done: number, total: number) => {
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const full = Math.round(ratio * width);
    const secs = ((clock() - started) / 1000).toFixed(1);
    stream!.write(`\r${label} [${'█'.repeat(full)}${'░'.repeat(width - full)}] ${String(Math.floor(ratio * 100)).padStart(3)}% ${done}/${total} ${opts.unit ?? 'rows'} ${secs}s\x1b[K`);
    drawn = true;
  };
  if (!stream?.isTTY) return { update: () => {}, finish: () => {} };
  return {
    update(done, total) {
      const now = clock();
      if (done < total && now - last < 100) return;
      last = now;
      draw(done, total);
    },
    finish() {
      if (drawn) stream.write('\n');
    },
  };
}
