// A request that breaks one of the offline-code rules. The domain stays free of HTTP, but it knows
// which status each rule deserves (400: the request itself is wrong; 409: it collides with codes that
// already exist), so the HTTP layer only has to wrap it in the Seam envelope {error: {type, message, data}}.

export class AccessCodeRuleError extends Error {
  override readonly name = 'AccessCodeRuleError';
  constructor(
    readonly status: 400 | 409,
    readonly type: string,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
  }
}
