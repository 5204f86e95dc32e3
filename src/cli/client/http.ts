// A small client for the Latchkey (Seam Connect) HTTP API, as the CLI uses it: every route is called with
// POST and a JSON body, `Authorization: Bearer <key>`. Errors come back as typed exceptions that keep what
// the server said (`error.type`, `message`, `data`), so the CLI can show it to the person at the terminal.

export const DEFAULT_API_URL = 'http://127.0.0.1:3000';
/** How long one request may take before the CLI gives up on it. */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** Something the user asked for that cannot be done as given (a flag, a file, a missing key). */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

/** The server answered with its error envelope `{error: {type, message, data?}, ok: false}`. */
export class ApiCallError extends Error {
  override readonly name = 'ApiCallError';
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly data: unknown,
    readonly path: string,
    readonly requestId: string | null,
    /** True when worked out locally (`--dry-run`) rather than answered by the server. */
    readonly predicted = false,
  ) {
    super(message);
  }
}

/** No HTTP answer at all: refused, unresolvable host, reset, or timed out. */
export class ApiConnectionError extends Error {
  override readonly name = 'ApiConnectionError';
  constructor(
    readonly url: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ApiClientOptions {
  url?: string | undefined;
  apiKey?: string | undefined;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** The server URL and key from flags, then the environment, then the default URL. */
export function resolveApiTarget(
  flags: { apiUrl?: string | undefined; apiKey?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): { url: string; apiKey: string | undefined } {
  const url = flags.apiUrl ?? nonEmpty(env.LATCHKEY_API_URL) ?? DEFAULT_API_URL;
  const apiKey = flags.apiKey ?? nonEmpty(env.SEAM_API_KEY);
  return { url, apiKey };
}

const nonEmpty = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);

/** `http://host:port[/prefix]` without a trailing slash; anything that is not an http(s) URL is refused. */
export function normalizeBaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliUsageError(
      `--api-url / LATCHKEY_API_URL must be a URL such as ${DEFAULT_API_URL} (got "${text}")`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliUsageError(`--api-url / LATCHKEY_API_URL must be http:// or https:// (got "${text}")`);
  }
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/+$/, '');
}

export interface Pagination {
  has_next_page?: boolean;
  next_page_cursor?: string | null;
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ApiClientOptions = {}) {
    this.baseUrl = normalizeBaseUrl(options.url ?? DEFAULT_API_URL);
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** POST `path` with a JSON body; resolves to the success body, throws ApiCallError / ApiConnectionError. */
  async call<T = Record<string, unknown>>(path: string, body: Record<string, unknown> = {}): Promise<T> {
    if (this.apiKey === undefined) {
      throw new CliUsageError(
        'No API key: pass --api-key or set SEAM_API_KEY (`latchkey key create --workspace-id …` makes one).',
      );
    }
    const url = `${this.baseUrl}${path}`;
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.apiKey}`,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: JSON.stringify(dropUndefined(body)),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw connectionError(url, error, this.timeoutMs);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw connectionError(url, error, this.timeoutMs);
    }
    const requestId = response.headers.get('seam-request-id');
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const envelope = isObject(parsed) ? parsed : undefined;
    if (response.ok && envelope && envelope.ok !== false) return envelope as T;
    const error = envelope && isObject(envelope.error) ? envelope.error : undefined;
    if (error && typeof error.type === 'string') {
      const message = typeof error.message === 'string' ? error.message : '(no message)';
      throw new ApiCallError(response.status, error.type, message, error.data, path, requestId);
    }
    // Not a Latchkey answer (a proxy page, another service on that port): say so rather than guess.
    const excerpt = text.replace(/\s+/g, ' ').trim().slice(0, 200);
    throw new ApiCallError(
      response.status,
      'unexpected_response',
      `${url} answered HTTP ${response.status} without a Seam error body${excerpt ? `: ${excerpt}` : ''}. ` +
        'Is --api-url / LATCHKEY_API_URL a Latchkey server?',
      undefined,
      path,
      requestId,
    );
  }

  /** Every page of a paginated list route, concatenated (`key` is the list's response key). */
  async listAll<T>(path: string, key: string, body: Record<string, unknown> = {}): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null | undefined;
    for (let page = 0; page < 10_000; page++) {
      const answer = await this.call<Record<string, unknown> & { pagination?: Pagination }>(path, {
        ...body,
        ...(cursor ? { page_cursor: cursor } : {}),
      });
      const list = answer[key];
      if (Array.isArray(list)) items.push(...(list as T[]));
      cursor = answer.pagination?.next_page_cursor;
      if (!answer.pagination?.has_next_page || !cursor) break;
    }
    return items;
  }
}

function connectionError(url: string, error: unknown, timeoutMs: number): ApiConnectionError {
  const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') {
    return new ApiConnectionError(url, `No answer from ${url} within ${Math.round(timeoutMs / 1000)} s.`);
  }
  const cause = err?.cause;
  const detail = cause?.code ?? cause?.message ?? err?.message ?? String(error);
  return new ApiConnectionError(
    url,
    `Could not reach the Latchkey server at ${url} (${detail}). Is it running (\`latchkey serve\`)? ` +
      'Set the address with --api-url or LATCHKEY_API_URL.',
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON.stringify drops undefined values anyway; this keeps the intent visible and nested objects alone. */
function dropUndefined(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
}
