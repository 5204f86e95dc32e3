import fc from 'fast-check';

// Request generators for the API fuzzer (test/api/fuzz.test.ts), driven by the OpenAPI document the server
// publishes. Ids are generated as `IdRef` placeholders and resolved when the request is sent, against the ids
// the run has seen so far (sandbox devices, created codes, webhooks, …) or a random uuid: the same seed gives
// the same sequence of requests even though the server mints new ids on every run.

// biome-ignore lint/suspicious/noExplicitAny: JSON Schema and JSON bodies are untyped here
export type Json = any;

export interface Operation {
  path: string;
  method: string;
  /** The JSON body schema (POST/PUT/PATCH), or an object schema built from the query parameters (GET/DELETE). */
  schema: Json;
  inQuery: boolean;
}

export class IdRef {
  constructor(
    readonly field: string,
    readonly index: number,
    readonly real: boolean,
    readonly fallback: string,
  ) {}
  toJSON(): string {
    return `<${this.field}#${this.index}${this.real ? '' : '?'}>`;
  }
}

export interface FuzzRequest {
  kind: string;
  method: string;
  path: string;
  /** Query pairs appended to the path when sent (values may hold IdRefs). */
  query?: [string, unknown][];
  /** A raw query string appended verbatim (attacks on the query parser). */
  rawQuery?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  key?: string | null;
}

/** The operations of an OpenAPI document, one per path × method. */
export function operations(doc: Json): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries<Json>(doc.paths)) {
    for (const [method, op] of Object.entries<Json>(item)) {
      const body = op.requestBody?.content?.['application/json']?.schema;
      if (body) {
        out.push({ path, method: method.toUpperCase(), schema: body, inQuery: false });
        continue;
      }
      const properties: Record<string, Json> = {};
      const required: string[] = [];
      for (const p of op.parameters ?? []) {
        if (p.in !== 'query') continue;
        properties[p.name] = p.schema;
        if (p.required) required.push(p.name);
      }
      out.push({
        path,
        method: method.toUpperCase(),
        schema: { type: 'object', properties, required, additionalProperties: false },
        inQuery: true,
      });
    }
  }
  return out;
}

const isDuration = (s: Json) => typeof s?.description === 'string' && /duration/i.test(s.description);
const isDate = (s: Json) => s?.format === 'date-time';

const HOUR = 3_600_000;

/** Dates near the server's clock, in the offsets the API accepts. */
function dateArb(now: number): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.oneof(fc.integer({ min: -72, max: 24 * 400 }), fc.integer({ min: -5, max: 5 })),
      fc.integer({ min: 0, max: 59 }),
      fc.constantFrom('Z', '+00:00', '-00:00', '+05:30', '-08:00'),
    )
    .map(([hours, minutes, offset]) => {
      const t = Math.floor(now / HOUR) * HOUR + hours * HOUR + minutes * 60_000;
      const iso = new Date(t).toISOString();
      if (offset === 'Z') return iso;
      const sign = offset[0] === '+' ? 1 : -1;
      const [oh, om] = offset.slice(1).split(':').map(Number);
      const shifted = new Date(t + sign * ((oh ?? 0) * HOUR + (om ?? 0) * 60_000)).toISOString();
      return `${shifted.slice(0, 19)}${offset}`;
    });
}

const durationArb = fc.oneof(
  fc.integer({ min: 1, max: 100 }).map((h) => `PT${h}H`),
  fc.integer({ min: 1, max: 30 }).map((d) => `P${d}D`),
  fc.integer({ min: 1, max: 59 }).map((m) => `-PT${m}M`),
  fc.constantFrom('P1DT2H30M', 'PT25H', 'PT0S', 'PT10M'),
);

const refField = (name: string) => (name.endsWith('_ids') ? name.slice(0, -1) : name);

const uuidRef = (field: string) =>
  fc
    .tuple(fc.nat(1000), fc.boolean(), fc.uuid({ version: 4 }))
    .map(([i, real, fallback]) => new IdRef(field, i, real, fallback));

/** Well-formed values for a schema (`name` is the property it sits under, for ids). */
export function valueArb(schema: Json, name: string, now: number): fc.Arbitrary<unknown> {
  const base = plainArb(schema, name, now);
  return schema?.nullable
    ? fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 4, arbitrary: base })
    : base;
}

function plainArb(schema: Json, name: string, now: number): fc.Arbitrary<unknown> {
  if (!schema || typeof schema !== 'object') return fc.constant(null);
  if (Array.isArray(schema.anyOf ?? schema.oneOf))
    return fc.oneof(...(schema.anyOf ?? schema.oneOf).map((s: Json) => valueArb(s, name, now)));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'string': {
      if (schema.format === 'uuid') return uuidRef(refField(name));
      if (isDate(schema)) return dateArb(now);
      if (schema.format === 'uri') return fc.nat(999).map((n) => `http://127.0.0.1:9/hook/${n}`);
      if (isDuration(schema)) return durationArb;
      if (name === 'delivery_id') return uuidRef('delivery_id');
      if (schema.pattern === '^\\d+$' || schema.pattern === '^\\d{1,16}$') {
        const min = schema.minLength ?? 1;
        const max = schema.maxLength ?? 16;
        return fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
      }
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern));
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 24, 24) });
    }
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1000, max: Math.min(schema.maximum ?? 1000, 1000) });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(valueArb(schema.items, name, now), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 3, 3)),
      });
    case 'object': {
      const props: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, s] of Object.entries<Json>(schema.properties ?? {})) props[k] = valueArb(s, k, now);
      return fc.record(props, { requiredKeys: schema.required ?? [] });
    }
    default:
      return fc.constant(null);
  }
}

// ——— malformed values ———

const nastyStrings = fc.constantFrom(
  '',
  '\u0000',
  'a\u0000b',
  '🔑🚪👩‍👩‍👧‍👦',
  '\u202eevil',
  '\ud800',
  '\udfff\ud800',
  'Ω≈ç√∫',
  '\\u0000',
  "'; DROP TABLE access_codes; --",
  '<script>alert(1)</script>',
  '{{7*7}}#{7*7}<%= 7*7 %>',
  '%00%ff',
  '../../etc/passwd',
  ' ',
  '\n\r\t',
  'null',
  'undefined',
  'NaN',
  '-0',
  '1e309',
  'true',
);

const unicodeString = fc.oneof(
  nastyStrings,
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

const badDates = fc.constantFrom(
  '2030-13-45T00:00:00Z',
  '2030-02-30T00:00:00Z',
  '2030-01-01T00:00:00',
  '2030-01-01',
  'yesterday',
  '',
  '0000-00-00T00:00:00Z',
  '+275760-09-13T00:00:00.000Z',
  '9999-12-31T23:59:59.999Z',
  '1970-01-01T00:00:00Z',
  '1900-01-01T00:00:00+14:00',
  '2030-01-01T25:61:61Z',
  '2030-01-01T00:00:00+99:99',
  '2030-01-01T00:00:00.123456789Z',
  'NaN',
  'Infinity',
  '2030-01-01T00:00:00Z ',
  '\u00002030-01-01T00:00:00Z',
);
const badDateValues = fc.oneof(
  badDates,
  fc.double().map((n) => n as unknown),
  fc.constant(1e20 as unknown),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);

const badDurations = fc.constantFrom(
  'PT',
  'P',
  '-P',
  '1h',
  'P1Y2M',
  'PT999999999999999999H',
  'P99999999D',
  '-PT99999999999H',
  'PT1.5H',
  'PT-1H',
  'P1W',
  '',
  'forever',
  'PT1H ',
);

const scalars = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, -1, 0, 1e308),
);

/** A value of a type the schema does not take. */
function wrongTypeArb(schema: Json): fc.Arbitrary<unknown> {
  const t = schema?.type;
  const options: fc.Arbitrary<unknown>[] = [fc.constant(null), fc.constant({}), fc.constant([])];
  if (t !== 'string') options.push(unicodeString, fc.constantFrom('1', '0', 'true', 'false', '1e3'));
  if (t !== 'integer' && t !== 'number') options.push(fc.integer(), fc.double());
  if (t === 'integer') options.push(fc.constantFrom('42', 1.5, 1e21, -0.5, '0x10'));
  if (t !== 'boolean') options.push(fc.boolean());
  if (t !== 'array') options.push(fc.array(scalars, { maxLength: 3 }));
  if (t === 'array') options.push(fc.constant({ 0: 'a' }), unicodeString);
  if (t !== 'object') options.push(fc.dictionary(fc.string({ maxLength: 5 }), scalars, { maxKeys: 3 }));
  return fc.oneof(...options);
}

/** Nested arrays/objects `depth` levels deep. */
export function deepValue(depth: number, arrays: boolean): unknown {
  let v: unknown = 'x';
  for (let i = 0; i < depth; i++) v = arrays ? [v] : { a: v };
  return v;
}

const hugeString = fc
  .tuple(fc.integer({ min: 10_000, max: 100_000 }), fc.constantFrom('a', '9', 'é', '🔑', '\u0000'))
  .map(([n, c]) => c.repeat(Math.ceil(n / c.length)));

const unknownKeys = fc.constantFrom(
  'unknown_key',
  '_strict',
  'constructor',
  'toString',
  'hasOwnProperty',
  'device_id ',
  'DEVICE_ID',
  'a.b',
  '',
  '🔑',
);

const protoBodies = [
  '{"__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"polluted":1}}}',
  '{"__proto__":[]}',
];

const invalidJson = fc.constantFrom(
  '{',
  '}',
  '{"device_id":}',
  "{'device_id':'x'}",
  '{"a":1,}',
  'nul',
  'undefined',
  '[1,2',
  '{"a":"\\uZZZZ"}',
  '\u0000',
  '{"a":1}{"b":2}',
  '{"a":NaN}',
  '"unterminated',
  '{"a":1e999999}',
  '\ufeff{}',
);

const protoQueries = [
  '__proto__.x=1',
  '__proto__[x]=1',
  'constructor.prototype.x=1',
  '__proto__=1',
  'a.b.c.d.e=1',
  'device_id=1&device_id=2',
  'device_ids.0=x',
  'limit=1&limit=2&limit=abc',
  'since=&since=',
  '%ZZ=%ZZ',
  'a=%00',
  '=',
  '&&&',
  'toString=1',
  'toString.x=1',
  'hasOwnProperty=1',
  'hasOwnProperty.x=1&valueOf=1&valueOf=2',
  'isPrototypeOf.call=1',
  'limit.__proto__.x=1',
  'device_ids[]=x',
  `x=${'y'.repeat(5000)}`,
];

function propNames(schema: Json): string[] {
  return Object.keys(schema?.properties ?? {});
}

/** A well-formed request for an operation. */
export function wellFormed(op: Operation, now: number): fc.Arbitrary<FuzzRequest> {
  return valueArb(op.schema, '', now).map((value) => toRequest(op, 'well_formed', value));
}

function toRequest(op: Operation, kind: string, value: unknown): FuzzRequest {
  if (op.inQuery && value && typeof value === 'object' && !Array.isArray(value)) {
    const query: [string, unknown][] = [];
    for (const [k, v] of Object.entries(value)) {
      if (Array.isArray(v)) for (const item of v) query.push([k, item]);
      else query.push([k, v]);
    }
    return { kind, method: op.method, path: op.path, query };
  }
  if (op.inQuery) return { kind, method: op.method, path: op.path, body: value };
  return { kind, method: op.method, path: op.path, body: value };
}

const ALL_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** Malformed requests for an operation (`allowed` is every method the path takes). */
export function malformed(op: Operation, allowed: string[], now: number): fc.Arbitrary<FuzzRequest> {
  const valid = valueArb(op.schema, '', now) as fc.Arbitrary<Record<string, unknown>>;
  const names = propNames(op.schema);
  const required: string[] = op.schema.required ?? [];
  const pick = <T>(xs: T[]) => fc.constantFrom(...xs);
  const withProp = (kind: string, valueFor: (name: string) => fc.Arbitrary<unknown>) =>
    names.length === 0
      ? fc.tuple(valid, valueFor('x')).map(([v, x]) => toRequest(op, kind, { ...v, x }))
      : fc
          .tuple(valid, pick(names))
          .chain(([v, name]) => valueFor(name).map((x) => toRequest(op, kind, { ...v, [name]: x })));
  const dateNames = names.filter(
    (n) => isDate(op.schema.properties[n]) || isDate(op.schema.properties[n]?.items),
  );
  const durationNames = names.filter((n) => isDuration(op.schema.properties[n]));
  const badMethods = ALL_METHODS.filter((m) => !allowed.includes(m));

  const cases: fc.Arbitrary<FuzzRequest>[] = [
    withProp('wrong_type', (n) => wrongTypeArb(op.schema.properties?.[n])),
    withProp('unicode', () => unicodeString),
    withProp('huge_string', () => hugeString),
    withProp('deep_nesting', () =>
      fc.tuple(fc.integer({ min: 50, max: 400 }), fc.boolean()).map(([d, a]) => deepValue(d, a)),
    ),
    withProp('number_as_string', (n) => {
      const s = op.schema.properties?.[n];
      return s?.type === 'integer' || s?.type === 'number'
        ? fc.integer().map(String)
        : s?.type === 'boolean'
          ? fc.constantFrom('true', 'false', '1', 'yes')
          : fc.integer().map(String);
    }),
    fc
      .tuple(valid, unknownKeys, scalars)
      .map(([v, k, x]) => toRequest(op, 'unknown_key', { ...v, [k === '' ? 'empty' : k]: x, [k]: x })),
    fc
      .tuple(fc.constantFrom<unknown>([], [{}], 'string', 42, null, true, [[]]), fc.boolean())
      .map(([body]) => ({
        kind: 'not_an_object',
        method: op.method,
        path: op.path,
        body,
        ...(op.inQuery ? {} : {}),
      })),
    fc.tuple(valid, fc.constantFrom(...protoBodies)).map(([, raw]) => ({
      kind: 'prototype_body',
      method: op.method === 'GET' || op.method === 'DELETE' ? 'POST' : op.method,
      path: op.path,
      rawBody: raw,
      headers: { 'content-type': 'application/json' },
    })),
    fc
      .tuple(
        valid,
        fc.constantFrom(
          'text/plain',
          'application/xml',
          'multipart/form-data; boundary=xyz',
          'application/octet-stream',
          'application/json; charset=utf-16',
          'application/x-www-form-urlencoded',
          'image/png',
          '',
        ),
      )
      .map(([v, type]) => ({
        kind: 'content_type',
        method: op.method === 'GET' || op.method === 'DELETE' ? 'POST' : op.method,
        path: op.path,
        rawBody:
          type === 'application/xml'
            ? '<device_id>x</device_id>'
            : type.startsWith('multipart')
              ? '--xyz\r\nContent-Disposition: form-data; name="device_id"\r\n\r\nx\r\n--xyz--\r\n'
              : type === 'application/x-www-form-urlencoded'
                ? 'device_id=x&__proto__.polluted=1&limit=abc'
                : JSON.stringify(v, (_k, x) => (x instanceof IdRef ? x.fallback : x)),
        headers: { 'content-type': type },
      })),
    invalidJson.map((raw) => ({
      kind: 'invalid_json',
      method: op.inQuery ? 'POST' : op.method,
      path: op.path,
      rawBody: raw,
      headers: { 'content-type': 'application/json' },
    })),
    fc.constantFrom('POST', op.method).map((method) => ({
      kind: 'empty_body',
      method,
      path: op.path,
      rawBody: '',
      headers: { 'content-type': 'application/json' },
    })),
    fc.constantFrom(...protoQueries).map((rawQuery) => ({
      kind: 'query_attack',
      method: op.inQuery ? op.method : 'GET',
      path: op.path,
      rawQuery,
    })),
    fc.constantFrom(null, 'seam_nope', 'garbage', '').map((key) => ({
      kind: 'bad_auth',
      method: op.method,
      path: op.path,
      key,
      ...(op.inQuery ? {} : { body: {} }),
    })),
  ];
  if (required.length > 0)
    cases.push(
      fc.tuple(valid, pick(required)).map(([v, drop]) => {
        const { [drop]: _gone, ...rest } = v;
        return toRequest(op, 'missing_required', rest);
      }),
    );
  if (dateNames.length > 0)
    cases.push(
      fc
        .tuple(valid, pick(dateNames), badDateValues)
        .map(([v, n, d]) =>
          toRequest(op, 'bad_date', { ...v, [n]: op.schema.properties[n].type === 'array' ? [d, d] : d }),
        ),
    );
  if (durationNames.length > 0)
    cases.push(
      fc
        .tuple(valid, pick(durationNames), badDurations)
        .map(([v, n, d]) => toRequest(op, 'bad_duration', { ...v, [n]: d })),
    );
  if (badMethods.length > 0)
    cases.push(
      fc
        .tuple(valid, pick(badMethods))
        .map(([v, method]) => ({ kind: 'bad_method', method, path: op.path, body: v })),
    );
  return fc.oneof(...cases);
}

/** Bodies over the 1 MiB limit (rare: each costs a megabyte of traffic). */
export function oversize(op: Operation): fc.Arbitrary<FuzzRequest> {
  return fc.integer({ min: 1024 * 1024 + 1, max: 1024 * 1024 + 64 * 1024 }).map((n) => ({
    kind: 'oversize',
    method: op.inQuery ? 'POST' : op.method,
    path: op.path,
    rawBody: `{"name":"${'a'.repeat(n)}"}`,
    headers: { 'content-type': 'application/json' },
  }));
}

/** Resolves IdRefs against the ids seen so far. */
export function resolve(value: unknown, pool: Map<string, string[]>): unknown {
  if (value instanceof IdRef) {
    const ids = pool.get(value.field) ?? [];
    return value.real && ids.length > 0 ? ids[value.index % ids.length] : value.fallback;
  }
  if (Array.isArray(value)) return value.map((v) => resolve(v, pool));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === '__proto__') Object.defineProperty(out, k, { value: resolve(v, pool), enumerable: true });
      else out[k] = resolve(v, pool);
    }
    return out;
  }
  return value;
}

/** Adds every `…_id` string found in a response body to the pool. */
export function collectIds(value: unknown, pool: Map<string, string[]>, depth = 0): void {
  if (depth > 8 || !value || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const v of value) collectIds(v, pool, depth + 1);
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    if (k.endsWith('_id') && typeof v === 'string') {
      const ids = pool.get(k) ?? [];
      if (!ids.includes(v) && ids.length < 200) ids.push(v);
      pool.set(k, ids);
    } else collectIds(v, pool, depth + 1);
  }
}

/** The query string for a request (IdRefs resolved). */
export function queryString(req: FuzzRequest, pool: Map<string, string[]>): string {
  if (req.rawQuery !== undefined) return `?${req.rawQuery}`;
  if (!req.query || req.query.length === 0) return '';
  const params = new URLSearchParams();
  for (const [k, v] of req.query) {
    const r = resolve(v, pool);
    params.append(k, r === null ? '' : typeof r === 'object' ? JSON.stringify(r) : String(r));
  }
  return `?${params.toString()}`;
}
