/** Opens the store and services for one CLI command and closes them afterwards. */
import type { Config } from '../../config/load.js';
import type { Services } from '../../services/context.js';
import { openServices } from '../../server.js';
import { bindOutboxSealing } from '../../storage/repositories/outbox.js';

export async function withServices<T>(config: () => Config, fn: (s: Services) => Promise<T>): Promise<T> {
  const c = config();
  const s = await openServices({ ...c, logLevel: c.logLevel === 'info' ? 'warn' : c.logLevel });
  bindOutboxSealing(s.store.db, s.aead); // outbox messages are sealed with the service key
  try {
    return await fn(s);
  } finally {
    await s.store.close();
  }
}
