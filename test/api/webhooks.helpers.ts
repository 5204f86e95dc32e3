import assert from 'node:assert/strict';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SeamWebhook } from '@seamapi/webhook';
import { assertSeamShape } from '../helpers/seam-schemas.ts';
import { call } from '../helpers/server.ts';
import type { Client } from './access-codes.helpers.ts';

// Shared by the webhook suites: a real HTTP receiver on 127.0.0.1 (the only address these tests ever send
// to), and raw-HTTP helpers for the webhook routes.

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered. */
  status: number;
  /** How many times this svix-id had reached this receiver, this one included. */
  nth: number;
}

/** Decides the answer to a request: a status code. */
export type Responder = (request: { path: string; svixId: string; nth: number; body: string }) => number;

export interface Receiver {
  port: number;
  /** `http://127.0.0.1:<port><path>` */
  url(path: string): string;
  /** Every request so far, in arrival order. */
  received: Received[];
  /** Requests to one path. */
  at(path: string): Received[];
  /** Sets how one path answers (default 200). */
  route(path: string, responder: Responder): void;
  /** Waits until `predicate` holds (polling), or fails after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void>;
  close(): Promise<void>;
}

/** An HTTP receiver on 127.0.0.1 (port 0 unless given), answering 200 unless a path's route says otherwise. */
export async function startReceiver(options: { port?: number; delayMs?: number } = {}): Promise<Receiver> {
  const received: Received[] = [];
  const routes = new Map<string, Responder>();
  const seen = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      const svixId = String(req.headers['svix-id'] ?? '');
      const nth = (seen.get(svixId) ?? 0) + 1;
      seen.set(svixId, nth);
      const status = (routes.get(path) ?? (() => 200))({ path, svixId, nth, body });
      received.push({ path, headers: req.headers, body, status, nth });
      const answer = () => {
        if (status >= 300 && status < 400) res.setHeader('location', `${path}/moved`);
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(status < 300 ? 'ok' : 'no');
      };
      if (options.delayMs) setTimeout(answer, options.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    at: (path) => received.filter((r) => r.path === path),
    route: (path, responder) => {
      routes.set(path, responder);
    },
    waitFor: async (predicate, timeoutMs, what) => {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // the sender's agent keeps connections alive
      }),
  };
}

/** A free port on 127.0.0.1 right now (nothing listens on it until someone does). */
export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface SeamWebhookObject {
  webhook_id: string;
  url: string;
  event_types: string[];
  secret: string;
}

/** POST /webhooks/create that must succeed; checks the object against the Seam model. */
export async function createWebhook(
  client: Client,
  body: { url: string; event_types?: string[] },
): Promise<SeamWebhookObject> {
  const r = await call(client, '/webhooks/create', { body });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.ok, true);
  assertSeamShape('webhook', r.json.webhook);
  assert.match(r.json.webhook.secret, /^whsec_[A-Za-z0-9+/=]{32,}$/);
  return r.json.webhook;
}

export interface DeliveryObject {
  delivery_id: string;
  webhook_id: string;
  event_id: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempt_count: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  attempts: {
    attempt_number: number;
    attempted_at: string;
    status_code: number | null;
    error: string | null;
    duration_ms: number;
  }[];
}

/** /webhooks/deliveries/list, newest first. */
export async function listDeliveries(
  client: Client,
  webhook_id: string,
  extra: Record<string, unknown> = {},
): Promise<DeliveryObject[]> {
  const r = await call(client, '/webhooks/deliveries/list', { body: { webhook_id, ...extra } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.ok, true);
  return r.json.deliveries;
}

/** The one delivery of a webhook. */
export async function onlyDelivery(client: Client, webhook_id: string): Promise<DeliveryObject> {
  const deliveries = await listDeliveries(client, webhook_id);
  assert.equal(deliveries.length, 1, JSON.stringify(deliveries));
  return deliveries[0] as DeliveryObject;
}

/** Verifies a received request with the official package; returns the event it carries. */
// biome-ignore lint/suspicious/noExplicitAny: events are read ad hoc
export function verified(secret: string, r: Received): any {
  return new SeamWebhook(secret).verify(r.body, r.headers as Record<string, string>);
}

export const svixId = (r: Received): string => String(r.headers['svix-id']);
