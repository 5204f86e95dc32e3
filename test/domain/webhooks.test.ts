import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { SeamWebhook } from '@seamapi/webhook';
import { generateWebhookSecret } from '../../src/app/webhooks.ts';
import {
  type AddressClass,
  classifyAddress,
  DELIVERY_TIMEOUT_MS,
  deliveryHeaders,
  EVENT_TYPES,
  MAX_ATTEMPTS,
  RETRY_DELAYS_MS,
  retryDelay,
  signPayload,
  unknownEventTypes,
  wantsEvent,
} from '../../src/domain/webhooks.ts';

// The pure parts of webhooks (issue 6, seam-api-reference.md §5): Seam's retry schedule, the Svix / Standard
// Webhooks signature, and the address classes behind the request-forgery guard.

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;

describe('retry schedule (Seam: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h)', () => {
  const table: [attemptsSoFar: number, delayBeforeNext: number | null][] = [
    [1, 5 * SEC],
    [2, 5 * MIN],
    [3, 30 * MIN],
    [4, 2 * HOUR],
    [5, 5 * HOUR],
    [6, 10 * HOUR],
    [7, 10 * HOUR],
    [8, null],
    [9, null],
    [100, null],
  ];
  for (const [attempts, delay] of table) {
    it(`after attempt ${attempts} fails: ${delay === null ? 'no more attempts' : `the next waits ${delay} ms`}`, () => {
      assert.equal(retryDelay(attempts), delay);
    });
  }

  it('has 8 attempts in all, the last 27 h 35 min 5 s after the first', () => {
    assert.equal(MAX_ATTEMPTS, 8);
    assert.equal(RETRY_DELAYS_MS.length, 7);
    let total = 0;
    for (let n = 1; retryDelay(n) !== null; n += 1) total += retryDelay(n) ?? 0;
    assert.equal(total, 27 * HOUR + 35 * MIN + 5 * SEC);
  });

  it('gives a receiver 15 s to answer', () => {
    assert.equal(DELIVERY_TIMEOUT_MS, 15_000);
  });
});

describe('signature (Svix / Standard Webhooks v1)', () => {
  // The Standard Webhooks specification's own test vector (github.com/standard-webhooks, svix libraries).
  const SPEC = {
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    timestamp: 1614265330,
    body: '{"test": 2432232314}',
    signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  };

  /** The scheme written out with node:crypto alone, independent of the implementation. */
  const reference = (secret: string, id: string, ts: number, body: string) =>
    `v1,${createHmac('sha256', Buffer.from(secret.replace(/^whsec_/, ''), 'base64'))
      .update(`${id}.${ts}.${body}`)
      .digest('base64')}`;

  it('matches the specification’s fixed vector', () => {
    assert.equal(reference(SPEC.secret, SPEC.id, SPEC.timestamp, SPEC.body), SPEC.signature);
    assert.equal(signPayload(SPEC.secret, SPEC.id, SPEC.timestamp, SPEC.body), SPEC.signature);
  });

  it('treats the whsec_ prefix as optional', () => {
    assert.equal(signPayload(SPEC.secret.slice(6), SPEC.id, SPEC.timestamp, SPEC.body), SPEC.signature);
  });

  const cases = [
    { name: 'a Seam event', body: '{"event_id":"e","event_type":"access_code.created"}' },
    { name: 'non-ASCII text (signed as UTF-8)', body: '{"name":"Café – Tür 🔑","event_type":"x"}' },
    { name: 'an empty body', body: '' },
    { name: 'whitespace that must not be normalised', body: ' {\n "a" : 1 }\n' },
  ];
  for (const { name, body } of cases) {
    it(`signs ${name} as the reference does`, () => {
      const secret = generateWebhookSecret();
      const id = 'msg_0190aaaabbbbccccddddeeeeffff0000';
      assert.equal(signPayload(secret, id, 1_900_000_000, body), reference(secret, id, 1_900_000_000, body));
    });
  }

  it('changes with every signed part: id, timestamp, body and secret', () => {
    const base = signPayload(SPEC.secret, SPEC.id, SPEC.timestamp, SPEC.body);
    assert.notEqual(signPayload(SPEC.secret, `${SPEC.id}x`, SPEC.timestamp, SPEC.body), base);
    assert.notEqual(signPayload(SPEC.secret, SPEC.id, SPEC.timestamp + 1, SPEC.body), base);
    assert.notEqual(signPayload(SPEC.secret, SPEC.id, SPEC.timestamp, `${SPEC.body} `), base);
    assert.notEqual(signPayload(generateWebhookSecret(), SPEC.id, SPEC.timestamp, SPEC.body), base);
  });

  it('generates whsec_ + base64 of 24 random bytes, each secret new', () => {
    const secrets = Array.from({ length: 50 }, generateWebhookSecret);
    assert.equal(new Set(secrets).size, 50);
    for (const s of secrets) {
      assert.match(s, /^whsec_[A-Za-z0-9+/=]{32,}$/);
      assert.equal(Buffer.from(s.slice(6), 'base64').length, 24);
    }
  });

  it('sends the same id, timestamp and signature under svix-* and webhook-* names', () => {
    const h = deliveryHeaders(SPEC.secret, SPEC.id, SPEC.timestamp, SPEC.body);
    assert.equal(h['svix-id'], SPEC.id);
    assert.equal(h['svix-timestamp'], String(SPEC.timestamp));
    assert.equal(h['svix-signature'], SPEC.signature);
    assert.equal(h['webhook-id'], h['svix-id']);
    assert.equal(h['webhook-timestamp'], h['svix-timestamp']);
    assert.equal(h['webhook-signature'], h['svix-signature']);
    assert.equal(h['content-type'], 'application/json');
  });

  it('produces headers @seamapi/webhook accepts, and it rejects a changed body, secret or old timestamp', () => {
    const secret = generateWebhookSecret();
    const event = { event_id: 'e1', event_type: 'access_code.created', workspace_id: 'w' };
    const body = JSON.stringify(event);
    const now = Math.floor(Date.now() / 1000);
    const headers = deliveryHeaders(secret, 'msg_1', now, body);
    assert.deepEqual(new SeamWebhook(secret).verify(body, headers), event);
    assert.throws(() => new SeamWebhook(secret).verify(body.replace('e1', 'e2'), headers));
    assert.throws(() => new SeamWebhook(generateWebhookSecret()).verify(body, headers));
    const stale = deliveryHeaders(secret, 'msg_1', now - 400, body);
    assert.throws(() => new SeamWebhook(secret).verify(body, stale), 'more than 5 minutes old');
    // Only the webhook-* names: svix accepts those too.
    const webhookOnly = Object.fromEntries(Object.entries(headers).filter(([k]) => !k.startsWith('svix-')));
    assert.deepEqual(new SeamWebhook(secret).verify(body, webhookOnly), event);
  });
});

describe('event types', () => {
  it('knows the access-code lifecycle, device and lock events', () => {
    for (const t of [
      'access_code.created',
      'access_code.set_on_device',
      'access_code.removed_from_device',
      'access_code.deleted',
      'lock.unlocked',
      'lock.access_denied',
    ]) {
      assert.ok((EVENT_TYPES as readonly string[]).includes(t), t);
    }
  });

  it('names the unknown ones; * is always known', () => {
    assert.deepEqual(unknownEventTypes(['*', 'lock.unlocked']), []);
    assert.deepEqual(unknownEventTypes(['lock.unlockd', 'access_code.*', 'lock.unlocked']), [
      'lock.unlockd',
      'access_code.*',
    ]);
  });

  const wants: [types: string[], event: string, expected: boolean][] = [
    [['*'], 'access_code.created', true],
    [['lock.unlocked'], 'lock.unlocked', true],
    [['lock.unlocked'], 'lock.access_denied', false],
    [['lock.unlocked'], 'access_code.created', false],
    [['access_code.created', 'lock.unlocked'], 'access_code.created', true],
    [['lock.unlocked', '*'], 'device.connected', true],
  ];
  for (const [types, event, expected] of wants) {
    it(`a webhook for ${JSON.stringify(types)} ${expected ? 'gets' : 'does not get'} ${event}`, () => {
      assert.equal(wantsEvent(types, event), expected);
    });
  }
});

describe('classifyAddress (the request-forgery guard)', () => {
  const table: [ip: string, expected: AddressClass, why: string][] = [
    // IPv4 loopback and private ranges: allowed only when configured.
    ['127.0.0.1', 'loopback', 'loopback'],
    ['127.255.255.254', 'loopback', 'all of 127/8'],
    ['10.0.0.1', 'private', '10/8'],
    ['10.255.255.255', 'private', '10/8, last'],
    ['172.16.0.1', 'private', '172.16/12, first'],
    ['172.31.255.255', 'private', '172.16/12, last'],
    ['172.15.255.255', 'public', 'just below 172.16/12'],
    ['172.32.0.1', 'public', 'just above 172.16/12'],
    ['192.168.0.1', 'private', '192.168/16'],
    ['192.168.255.255', 'private', '192.168/16, last'],
    ['192.169.0.1', 'public', 'just above 192.168/16'],
    // IPv4 never allowed.
    ['169.254.169.254', 'forbidden', 'the cloud metadata endpoint'],
    ['169.254.0.1', 'forbidden', 'link-local'],
    ['0.0.0.0', 'forbidden', 'unspecified'],
    ['0.1.2.3', 'forbidden', '0/8'],
    ['100.64.0.1', 'forbidden', 'carrier-grade NAT'],
    ['100.127.255.255', 'forbidden', 'carrier-grade NAT, last'],
    ['224.0.0.1', 'forbidden', 'multicast'],
    ['239.255.255.250', 'forbidden', 'multicast (SSDP)'],
    ['240.0.0.1', 'forbidden', 'reserved'],
    ['255.255.255.255', 'forbidden', 'broadcast'],
    // IPv4 public.
    ['8.8.8.8', 'public', 'public'],
    ['1.1.1.1', 'public', 'public'],
    ['169.253.255.255', 'public', 'just below link-local'],
    ['100.63.255.255', 'public', 'just below CGNAT'],
    ['223.255.255.255', 'public', 'just below multicast'],
    // IPv6.
    ['::1', 'loopback', 'loopback'],
    ['fe80::1', 'forbidden', 'link-local'],
    ['febf::1', 'forbidden', 'link-local, last /10'],
    ['FE80::ABCD', 'forbidden', 'link-local, upper case'],
    ['fd00:ec2::254', 'forbidden', 'the AWS metadata endpoint over IPv6'],
    ['::', 'forbidden', 'unspecified'],
    ['ff02::1', 'forbidden', 'multicast'],
    ['fc00::1', 'private', 'unique local fc00::/7'],
    ['fd12:3456::1', 'private', 'unique local fd00::/8'],
    ['2001:db8::1', 'public', 'documentation range, globally routed form'],
    ['2606:4700:4700::1111', 'public', 'public'],
    // IPv4-mapped IPv6: classified as the IPv4 address they reach, in dotted and in hex form.
    ['::ffff:127.0.0.1', 'loopback', 'mapped loopback'],
    ['::ffff:10.1.2.3', 'private', 'mapped private'],
    ['::ffff:169.254.169.254', 'forbidden', 'mapped metadata endpoint'],
    ['::ffff:8.8.8.8', 'public', 'mapped public'],
    ['::ffff:7f00:1', 'loopback', 'mapped loopback, hex (as new URL writes [::ffff:127.0.0.1])'],
    ['::ffff:a9fe:a9fe', 'forbidden', 'mapped metadata endpoint, hex'],
    ['::ffff:c0a8:101', 'private', 'mapped 192.168.1.1, hex'],
    ['::ffff:0:0', 'forbidden', 'mapped 0.0.0.0, hex'],
    ['::ffff:808:808', 'public', 'mapped 8.8.8.8, hex'],
    // Not an address at all.
    ['localhost', 'forbidden', 'a name, not an address'],
    ['', 'forbidden', 'empty'],
    ['999.1.1.1', 'forbidden', 'not an IPv4 address'],
  ];
  for (const [ip, expected, why] of table) {
    it(`${ip || '(empty)'} is ${expected} (${why})`, () => {
      assert.equal(classifyAddress(ip), expected);
    });
  }

  it('classifies every host the URL parser can produce for the metadata endpoint as forbidden', () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://2852039166/', // decimal
      'http://0xa9.0xfe.0xa9.0xfe/', // hex octets
      'http://0251.0376.0251.0376/', // octal octets
      'http://[::ffff:169.254.169.254]/',
      'http://[0:0:0:0:0:ffff:a9fe:a9fe]/',
    ]) {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      assert.equal(classifyAddress(host), 'forbidden', `${url} → ${host}`);
    }
  });
});
