/** An in-process Callwarden on the embedded in-memory store, listening on loopback, for scripts. */
import { loadConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/http/app.js';
import { createServices } from '../../src/services/context.js';
import { createOperator } from '../../src/services/tenants.js';
import { openDatabase } from '../../src/storage/db.js';
import { migrate } from '../../src/storage/migrate.js';
import { createStore } from '../../src/storage/store.js';

export const DEMO_OPERATOR = { email: 'operator@callwarden.example', password: 'platform keeper passphrase 2026' };

export async function demoServer(env: Record<string, string> = {}) {
  const config = loadConfig({ CALLWARDEN_CONSOLE_DIR: process.env.CALLWARDEN_CONSOLE_DIR ?? '', CALLWARDEN_DATA_DIR: 'memory:', CALLWARDEN_LOG_LEVEL: 'silent', CALLWARDEN_IP_ATTEMPTS_PER_MINUTE: '100000', CALLWARDEN_IDENTIFIER_ATTEMPTS_PER_MINUTE: '100000', ...env });
  const database = await openDatabase({ dataDir: config.dataDir });
  await migrate(database.db);
  const store = createStore(database);
  const s = createServices(config, store);
  await createOperator(s, { ...DEMO_OPERATOR, origin: { ip: null, userAgent: null, requestId: null, channel: 'system' } });
  const app = await buildApp(s, { logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return { s, app, url, close: async () => { await app.close(); await store.close(); } };
}
