/** An SMS provider on loopback that can answer, answer 503 or refuse connections, for the provider-outage scenario. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { verifyChain, type VerifyReport } from '../../src/audit/verify.js';
import type { Db } from '../../src/storage/db.js';
import { call, freePort, type CallOptions, type Reply, type Target } from '../multi-instance/cluster.js';

// ---------------------------------------------------------------------------------------------
// A provider that can fail

export type PeerMode = 'ok' | 'unavailable' | 'refusing';

export interface PeerRequest {
  at: number;
  messageId: string;
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface FlakyPeer {
  url: string;
  port: number;
  requests: PeerRequest[];
  mode(): PeerMode;
  /** 'ok': 200; 'unavailable': 503; 'refusing': the port is closed (connections refused). */
  set(mode: PeerMode): Promise<void>;
  close(): Promise<void>;
}

/** An SMS/webhook provider on a fixed loopback port whose availability the test switches. */
export async function flakyPeer(messageIdHeader: string): Promise<FlakyPeer> {
  const { createServer } = await import('node:http');
  const port = await freePort();
  const requests: PeerRequest[] = [];
  let mode: PeerMode = 'ok';
  const t0 = Date.now();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = mode === 'ok' ? 200 : 503;
      const messageId = String(req.headers[messageIdHeader] ?? '');
      requests.push({ at: Date.now() - t0, messageId, status, body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status === 200 ? { id: `rcv-${messageId}` } : { error: 'service_unavailable' }));
    });
  });
  const listen = () => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const unlisten = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    mode: () => mode,
    async set(next) {
      if (next === mode) return;
      if (next === 'refusing') await unlisten();
      else if (mode === 'refusing') await listen();
      mode = next;
    },
    async close() {
      if (mode !== 'refusing') await unlisten();
      mode = 'refusing';
    },
  };
}
