import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { classifyAddress } from '../domain/webhooks.ts';

// Server-side request forgery guard: every address a webhook URL resolves to is checked — at creation, and
// again at connect time (the `lookup` hook), so a DNS answer that changes after creation cannot reach the
// cloud metadata endpoint or, unless allowed, the private network.

export interface NetworkPolicy {
  /** Loopback and private ranges (10/8, 172.16/12, 192.168/16, fc00::/7, 127/8, ::1). */
  allowPrivateNetworks: boolean;
}

export class WebhookUrlError extends Error {
  override readonly name = 'WebhookUrlError';
}

function refusal(ip: string, policy: NetworkPolicy): string | null {
  const kind = classifyAddress(ip);
  if (kind === 'forbidden') return `${ip}, a link-local, metadata, multicast or reserved address`;
  if ((kind === 'private' || kind === 'loopback') && !policy.allowPrivateNetworks) {
    return `${ip}, a ${kind} address (LATCHKEY_WEBHOOK_ALLOW_PRIVATE is off)`;
  }
  return null;
}

function guardedLookup(policy: NetworkPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const list = addresses as LookupAddress[];
      for (const a of list) {
        const why = refusal(a.address, policy);
        if (why) return callback(new WebhookUrlError(`refused: ${hostname} resolves to ${why}`), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      const first = list[0];
      if (!first) return callback(new Error(`${hostname} has no address`), '', 0);
      callback(null, first.address, first.family);
    });
  };
}

/** Throws WebhookUrlError unless `url` is http(s) and every address it resolves to is allowed. */
export async function checkWebhookUrl(url: string, policy: NetworkPolicy): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WebhookUrlError('url must be an absolute http:// or https:// URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new WebhookUrlError('url must use http:// or https://');
  }
  if (parsed.username || parsed.password) throw new WebhookUrlError('url must not carry credentials');
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  await new Promise<void>((resolve, reject) => {
    guardedLookup(policy)(host, { all: true }, (error) => (error ? reject(error) : resolve()));
  }).catch((error: Error) => {
    throw error instanceof WebhookUrlError
      ? error
      : new WebhookUrlError(`cannot resolve ${host}: ${error.message}`);
  });
}

export interface SendOutcome {
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

/** POSTs the body; success is a 2xx within `timeoutMs`. Never throws. */
export function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: { timeoutMs: number; policy: NetworkPolicy },
): Promise<SendOutcome> {
  const started = performance.now();
  const done = (status_code: number | null, error: string | null): SendOutcome => ({
    status_code,
    error,
    duration_ms: Math.round(performance.now() - started),
  });
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: SendOutcome) => {
      if (!settled) {
        settled = true;
        resolve(outcome);
      }
    };
    let request: http.ClientRequest;
    try {
      // net.connect never calls `lookup` for an IP-literal host, so a literal is checked here.
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      const why = isIP(host) ? refusal(host, options.policy) : null;
      if (why) {
        finish(done(null, `refused: ${host} resolves to ${why}`));
        return;
      }
      const client = url.startsWith('https:') ? https : http;
      request = client.request(url, {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: guardedLookup(options.policy),
        timeout: options.timeoutMs,
      });
    } catch (error) {
      finish(done(null, (error as Error).message));
      return;
    }
    const deadline = setTimeout(
      () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    request.on('error', (error) => {
      clearTimeout(deadline);
      finish(done(null, error.message));
    });
    request.on('response', (response) => {
      response.resume(); // the receiver's body is not needed; drain it
      response.on('end', () => {
        clearTimeout(deadline);
        const code = response.statusCode ?? 0;
        finish(done(code, code >= 200 && code < 300 ? null : `HTTP ${code}`));
      });
      response.on('error', (error) => {
        clearTimeout(deadline);
        finish(done(response.statusCode ?? null, error.message));
      });
    });
    request.end(body);
  });
}
