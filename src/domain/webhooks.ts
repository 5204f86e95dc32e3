import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';
import { isoUtc } from './time.ts';

// Webhooks as Seam (through Svix) sends them: the raw event JSON, signed with the Standard Webhooks scheme,
// retried on Seam's schedule.

/** After attempt n fails, the next one waits RETRY_DELAYS_MS[n-1]: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const RETRY_DELAYS_MS = [
  5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
/** A receiver must answer 2xx within this, or the attempt failed. */
export const DELIVERY_TIMEOUT_MS = 15_000;

/** The delay before attempt `attempts + 1`, or null when the delivery has had all its attempts. */
export function retryDelay(attempts: number): number | null {
  return attempts >= MAX_ATTEMPTS ? null : (RETRY_DELAYS_MS[attempts - 1] ?? null);
}

/** The event types a webhook can name (besides `*`, every event). */
export const EVENT_TYPES = [
  'access_code.created',
  'access_code.set_on_device',
  'access_code.removed_from_device',
  'access_code.deleted',
  'access_code.delay_in_setting_on_device',
  'access_code.delay_in_removing_from_device',
  'access_code.failed_to_set_on_device',
  'device.connected',
  'device.disconnected',
  'lock.unlocked',
  'lock.access_denied',
] as const;

export function unknownEventTypes(types: readonly string[]): string[] {
  return types.filter((t) => t !== '*' && !(EVENT_TYPES as readonly string[]).includes(t));
}

export function wantsEvent(eventTypes: readonly string[], eventType: string): boolean {
  return eventTypes.includes('*') || eventTypes.includes(eventType);
}

/**
 * Standard Webhooks / Svix signature: `v1,` + base64 HMAC-SHA256 of `${id}.${timestamp}.${body}` under the
 * base64-decoded secret (its `whsec_` prefix removed).
 */
export function signPayload(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** Both the `svix-*` and the `webhook-*` header names, as @seamapi/webhook (svix) accepts either. */
export function deliveryHeaders(secret: string, id: string, timestampSeconds: number, body: string) {
  const signature = signPayload(secret, id, timestampSeconds, body);
  const ts = String(timestampSeconds);
  return {
    'content-type': 'application/json',
    'user-agent': 'Latchkey-Webhooks/1',
    'svix-id': id,
    'svix-timestamp': ts,
    'svix-signature': signature,
    'webhook-id': id,
    'webhook-timestamp': ts,
    'webhook-signature': signature,
  };
}

export type AddressClass = 'public' | 'private' | 'loopback' | 'forbidden';

function ipv4Octets(ip: string): number[] {
  return ip.split('.').map(Number);
}

/**
 * What kind of address a webhook would reach. Link-local (which includes the cloud metadata endpoint
 * 169.254.169.254), unspecified, multicast and reserved addresses are `forbidden` always; private and loopback
 * ranges depend on configuration.
 */
export function classifyAddress(ip: string): AddressClass {
  const family = isIP(ip);
  if (family === 4) {
    const [a = 0, b = 0] = ipv4Octets(ip);
    if (a === 0 || a >= 224 || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127))
      return 'forbidden';
    if (a === 127) return 'loopback';
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
    return 'public';
  }
  if (family === 6) {
    const lower = ip.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    if (mapped?.[1]) return classifyAddress(mapped[1]);
    // The same mapping in hex, as the URL parser writes it: [::ffff:169.254.169.254] → ::ffff:a9fe:a9fe.
    const mappedHex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
    if (mappedHex?.[1] && mappedHex[2]) {
      const hi = Number.parseInt(mappedHex[1], 16);
      const lo = Number.parseInt(mappedHex[2], 16);
      return classifyAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
    }
    if (lower === '::1') return 'loopback';
    if (
      lower === '::' ||
      lower.startsWith('ff') ||
      /^fe[89ab]/.test(lower) ||
      lower.startsWith('fd00:ec2:')
    ) {
      return 'forbidden';
    }
    if (/^f[cd]/.test(lower)) return 'private';
    return 'public';
  }
  return 'forbidden';
}

export interface WebhookRecord {
  webhook_id: string;
  workspace_id: string;
  url: string;
  event_types: string[];
  secret: string;
  created_at: number;
}

/** The Seam `webhook` object. */
export function toSeamWebhook(w: WebhookRecord) {
  return { webhook_id: w.webhook_id, url: w.url, event_types: w.event_types, secret: w.secret };
}

export interface DeliveryView {
  delivery_id: string;
  webhook_id: string;
  event_id: string;
  status: 'pending' | 'succeeded' | 'failed';
  next_attempt_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
}

/**
 * `attempts`: the delivery's recorded attempts, by attempt number. `attempt_count` counts attempts up to the
 * latest with an outcome: an attempt is taken on the delivery row before its POST (so two runners never both
 * send it) and counts here once its outcome is recorded, together with `last_status_code` and `last_error`.
 */
export function toDeliveryObject(
  d: DeliveryView,
  attempts: {
    attempt_number: number;
    attempted_at: number;
    status_code: number | null;
    error: string | null;
    duration_ms: number;
  }[],
) {
  return {
    delivery_id: d.delivery_id,
    webhook_id: d.webhook_id,
    event_id: d.event_id,
    status: d.status,
    attempt_count: attempts.at(-1)?.attempt_number ?? 0,
    next_attempt_at: d.next_attempt_at === null ? null : isoUtc(d.next_attempt_at),
    last_status_code: d.last_status_code,
    last_error: d.last_error,
    created_at: isoUtc(d.created_at),
    attempts: attempts.map((a) => ({
      attempt_number: a.attempt_number,
      attempted_at: isoUtc(a.attempted_at),
      status_code: a.status_code,
      error: a.error,
      duration_ms: a.duration_ms,
    })),
  };
}
