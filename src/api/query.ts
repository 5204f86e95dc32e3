// Query strings as the Seam SDKs write them (@seamapi/url-search-params-serializer): repeated keys are
// arrays, dotted keys are nested objects, `_strict=true` rides along on every request and means nothing
// here. Values stay strings; `coerceQuery` turns them into the types the route's schema expects.

export type QueryValue = string | string[] | QueryObject;
export interface QueryObject {
  [key: string]: QueryValue;
}

// Skipped so a crafted query cannot reach Object.prototype through a plain object.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export function parseQuery(raw: string): QueryObject {
  const out: QueryObject = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    if (key === '_strict') continue;
    const path = key.split('.');
    if (path.some((p) => p === '' || FORBIDDEN_KEYS.has(p))) continue;
    let node: QueryObject = out;
    for (const part of path.slice(0, -1)) {
      const next = Object.hasOwn(node, part) ? node[part] : undefined;
      if (next === undefined || typeof next === 'string' || Array.isArray(next)) {
        const child: QueryObject = {};
        node[part] = child;
        node = child;
      } else {
        node = next;
      }
    }
    const leaf = path[path.length - 1] as string;
    // Own keys only: `toString.x=1` must not reach (and write onto) Object.prototype.toString.
    const existing = Object.hasOwn(node, leaf) ? node[leaf] : undefined;
    if (existing === undefined || (typeof existing === 'object' && !Array.isArray(existing)))
      node[leaf] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else node[leaf] = [existing, value];
  }
  return out;
}
