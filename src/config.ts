// Configuration from the environment (contract §2). Read once at start-up; nothing else reads process.env.

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
  };
}

function nonNegative(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number ≥ 0, got ${text}`);
  return value;
}
