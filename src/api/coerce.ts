import type { z } from 'zod';

// Query-string values arrive as strings. This walks the route's zod schema and converts each value to the
// type the schema wants there (boolean, number, array, null), so one schema validates both the JSON body and
// the query string. Anything it cannot convert is passed through for zod to reject with a clear message.

type AnySchema = z.core.$ZodType;

export function coerceQuery(schema: AnySchema, value: unknown): unknown {
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
      return coerceQuery(def.innerType as AnySchema, value);
    case 'nullable':
      // The SDK serializes null as an empty value.
      return value === '' ? null : coerceQuery(def.innerType as AnySchema, value);
    case 'pipe':
      return coerceQuery(def.in as AnySchema, value);
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
      const shape = def.shape as Record<string, AnySchema>;
      const out: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(value)) {
        // Own keys only: `hasOwnProperty=1` must not find Object.prototype.hasOwnProperty as a schema.
        const field = Object.hasOwn(shape, key) ? shape[key] : undefined;
        out[key] = field ? coerceQuery(field, v) : v;
      }
      return out;
    }
    case 'array': {
      // A single value is a one-element array; an empty value is the empty array.
      const items = Array.isArray(value) ? value : value === '' ? [] : [value];
      return items.map((item) => coerceQuery(def.element as AnySchema, item));
    }
    case 'boolean':
      return value === 'true' ? true : value === 'false' ? false : value;
    case 'number':
    case 'int':
      return typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))
        ? Number(value)
        : value;
    case 'union': {
      const options = def.options as AnySchema[];
      for (const option of options) {
        const candidate = coerceQuery(option, value);
        if ((option as z.ZodType).safeParse(candidate).success) return candidate;
      }
      return value;
    }
    default:
      return value;
  }
}
