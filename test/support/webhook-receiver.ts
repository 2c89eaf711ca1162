/**
 * A webhook receiver on 127.0.0.1 for tests: verifies every request exactly
 * as a user's receiver would (`new Webhook(secret).verify(body, headers)`,
 * standardwebhooks), records what came, and answers as told.
 */
import { once, EventEmitter } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { webhookEventSchema, type WebhookEvent } from '@vod/contract';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  id: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Parsed and schema-checked when the signature verified; undefined otherwise. */
  event?: WebhookEvent;
  /** Why verification failed, if it did. */
  verifyError?: string;
  status: number;
  /** When it arrived (Unix ms). */
  at: number;
}

export interface TestReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Verified events, first delivery of each webhook-id only (receivers deduplicate on it). */
  events(): WebhookEvent[];
  /** Resolves once `predicate` holds over what was received (checked after every request). */
  until(predicate: (r: TestReceiver) => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** `answer(attempt, event)` picks the status of each verified request — `attempt` counts requests with its webhook-id, from 1 (default 204); `'hang'` never answers. */
export async function startReceiver(secret: string, answer: (n: number, event: WebhookEvent) => number | 'hang' = () => 204): Promise<TestReceiver> {
  const wh = new Webhook(secret);
  const received: ReceivedWebhook[] = [];
  const changed = new EventEmitter();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const entry: ReceivedWebhook = { id: String(req.headers['webhook-id']), headers: req.headers, body, status: 400, at: Date.now() };
    try {
      entry.event = webhookEventSchema.parse(wh.verify(body, req.headers as Record<string, string>));
      const a = answer(received.filter((r) => r.id === entry.id).length + 1, entry.event);
      if (a === 'hang') {
        received.push(entry);
        changed.emit('request');
        return; // never answers; the connection is dropped on close
      }
      entry.status = a;
    } catch (err) {
      entry.verifyError = (err as Error).message;
    }
    received.push(entry);
    res.writeHead(entry.status).end();
    changed.emit('request');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const receiver: TestReceiver = {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    events() {
      const seen = new Set<string>();
      return received.filter((r) => r.event && r.status < 300 && !seen.has(r.id) && seen.add(r.id)).map((r) => r.event!);
    },
    until(predicate, what, timeoutMs = 60_000) {
      if (predicate(receiver)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          changed.off('request', check);
          reject(new Error(`receiver: ${what} did not happen within ${timeoutMs / 1000} s (${received.length} requests)`));
        }, timeoutMs);
        const check = () => {
          if (!predicate(receiver)) return;
          clearTimeout(timer);
          changed.off('request', check);
          resolve();
        };
        changed.on('request', check);
      });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return receiver;
}

/** A fresh `whsec_` secret (24 random bytes). */
export function newWebhookSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64')}`;
}
