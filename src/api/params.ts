/**
 * Seam filters come in pairs (`device_id` and `device_ids`, …): both together mean their union;
 * neither means "no filter" (undefined).
 */
export function oneAndMany<T>(one: T | undefined, many: readonly T[] | undefined): T[] | undefined {
  if (one === undefined && many === undefined) return undefined;
  return [...(one === undefined ? [] : [one]), ...(many ?? [])];
}
