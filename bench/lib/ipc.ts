/** The parent side of the benchmarks' IPC with a forked load client: send a message, wait for a reply type. */
import type { ChildProcess } from 'node:child_process';

type Msg = { type: string };

/** Sends `msg` and resolves with the first message of type `until`; others go to `on`; a 'fatal' message or an exit rejects. */
export function request<F extends Msg, T extends F['type']>(child: ChildProcess, msg: unknown, until: T, on: (m: F) => void = () => {}): Promise<Extract<F, { type: T }>> {
  return new Promise((resolve, reject) => {
    const done = () => {
      child.off('message', listener);
      child.off('exit', exited);
    };
    const exited = (code: number | null) => {
      done();
      reject(new Error(`load client exited (${code})`));
    };
    const listener = (raw: unknown) => {
      const m = raw as F;
      if (m.type === 'fatal') {
        done();
        reject(new Error(`load client: ${(m as unknown as { message: string }).message}`));
      } else if (m.type === until) {
        done();
        resolve(m as Extract<F, { type: T }>);
      } else on(m);
    };
    child.on('message', listener);
    child.on('exit', exited);
    child.send(msg as object);
  });
}
