// Per-API-key rate limiting: a token bucket per key, refilled continuously. It lives in the server process:
// with N processes behind a load balancer a key gets up to N times the rate (documented in docs/security.md).

export interface RateLimit {
  /** Sustained requests per second per key. */
  perSecond: number;
  /** Requests a key may send at once before the sustained rate applies. */
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets untouched this long are full again and can be forgotten. */
const FORGET_AFTER_MS = 60_000;

export class KeyRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes one token for `key`: 0 when the request may go, else the milliseconds until it could. */
  take(key: string): number {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.limit.burst, at: now };
    bucket.tokens = Math.min(
      this.limit.burst,
      bucket.tokens + ((now - bucket.at) / 1000) * this.limit.perSecond,
    );
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (this.buckets.size > 10_000) this.forgetIdle(now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / this.limit.perSecond) * 1000);
  }

  private forgetIdle(now: number): void {
    for (const [key, b] of this.buckets) if (now - b.at > FORGET_AFTER_MS) this.buckets.delete(key);
  }
}
