// Configuration from the environment (contract §2). Read once at start-up; nothing else reads process.env.
import { isIP } from 'node:net';

export interface Config {
  host: string;
  port: number;
  databaseUrl: string;
  bootstrapApiKey: string | undefined;
  /** 64 hex digits; otherwise a key generated once into `dataDir/master.key`. */
  masterKey: string | undefined;
  dataDir: string;
  /** Webhook URLs may resolve to loopback and private addresses (handy locally; turn off when exposed). */
  webhookAllowPrivate: boolean;
  logLevel: string;
  /** Requests per second per API key (bursts of twice that); 0 turns the limit off. */
  rateLimitPerSecond: number;
  /** Bearer token that /metrics requires; undefined: /metrics is open (firewall it). */
  metricsToken: string | undefined;
  /**
   * Which peers may set X-Forwarded-Proto / X-Forwarded-For (Fastify's `trustProxy`): false (the default)
   * trusts none, true trusts any, a list trusts those addresses and CIDR ranges.
   */
  trustProxy: boolean | string[];
}

export const DEFAULT_DATABASE_URL = 'sqlite:./data/latchkey.sqlite';

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be 0–65535, got ${env.PORT}`);
  return {
    host: env.HOST ?? '127.0.0.1',
    port,
    databaseUrl: env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
    bootstrapApiKey: env.LATCHKEY_BOOTSTRAP_API_KEY || undefined,
    masterKey: env.LATCHKEY_MASTER_KEY || undefined,
    dataDir: env.LATCHKEY_DATA_DIR ?? './data',
    webhookAllowPrivate: !['0', 'false', 'no', 'off'].includes(
      (env.LATCHKEY_WEBHOOK_ALLOW_PRIVATE ?? 'true').toLowerCase(),
    ),
    logLevel: env.LOG_LEVEL ?? 'info',
    rateLimitPerSecond: nonNegative('LATCHKEY_RATE_LIMIT', env.LATCHKEY_RATE_LIMIT ?? '100'),
    metricsToken: env.LATCHKEY_METRICS_TOKEN || undefined,
    trustProxy: parseTrustProxy(env.LATCHKEY_TRUST_PROXY),
  };
}

/** proxy-addr's names for ranges, as Fastify's `trustProxy` accepts them. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * LATCHKEY_TRUST_PROXY: unset, empty, `false` (`0`, `no`, `off`) trusts no proxy; `true` (`1`, `yes`, `on`)
 * trusts whichever peer connects; otherwise a comma-separated list of IP addresses, CIDR ranges
 * (`10.0.0.0/8`, `fd00::/8`) and the names `loopback`, `linklocal`, `uniquelocal`.
 */
export function parseTrustProxy(text: string | undefined): boolean | string[] {
  const value = (text ?? '').trim();
  const lower = value.toLowerCase();
  if (['', '0', 'false', 'no', 'off'].includes(lower)) return false;
  if (['1', 'true', 'yes', 'on'].includes(lower)) return true;
  const entries = value.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    if (!isProxyAddress(entry)) {
      throw new Error(
        `LATCHKEY_TRUST_PROXY must be true, false, or a comma-separated list of IP addresses and CIDR ranges ` +
          `(or loopback, linklocal, uniquelocal); "${entry}" is none of these`,
      );
    }
  }
  return entries.map((entry) => (PROXY_RANGE_NAMES.has(entry.toLowerCase()) ? entry.toLowerCase() : entry));
}

function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry.toLowerCase())) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

function nonNegative(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number ≥ 0, got ${text}`);
  return value;
}
