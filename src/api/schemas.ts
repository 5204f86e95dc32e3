import { z } from 'zod';
import { parseIsoDuration } from '../domain/time.ts';

// Schema pieces shared by routes, so each parameter means the same everywhere.

/** Seam ids are UUID-shaped; any 8-4-4-4-12 hex string is accepted (examples use non-RFC variants). */
export const id = () => z.guid();

export const limit = (defaultValue: number) =>
  z.number().int().min(1).max(100_000).default(defaultValue).describe('Maximum number of records to return.');

export const pageCursor = () =>
  z
    .string()
    .nullable()
    .optional()
    .describe('`next_page_cursor` of the previous page, to fetch the next one.');

/** An ISO 8601 instant with an explicit offset (`Z`, `-00:00`, `+05:30`), as milliseconds. */
export const instant = () =>
  z.iso
    .datetime({ offset: true })
    .transform((s) => Date.parse(s))
    .describe('ISO 8601 date-time with an offset, e.g. 2026-12-01T15:00:00Z or 2026-12-01T16:00:00+01:00');

/** An ISO 8601 duration (`PT25H`, `P1DT2H`, `-PT10M`) as milliseconds; years and months are refused. */
export const duration = () =>
  z
    .string()
    .transform((text, ctx) => {
      const ms = parseIsoDuration(text);
      if (ms === null) {
        ctx.addIssue({
          code: 'custom',
          message:
            'must be an ISO 8601 duration in weeks, days, hours, minutes or seconds, e.g. PT25H or P2DT3H',
        });
        return z.NEVER;
      }
      return ms;
    })
    .describe('ISO 8601 duration, e.g. PT25H, P1DT2H30M or -PT10M');

export const customMetadata = () => z.record(z.string(), z.union([z.string(), z.boolean()]));

/** An IANA time zone that this Node.js knows (e.g. `Europe/Paris`). */
export const timeZone = () =>
  z.string().refine(
    (tz) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    },
    { message: 'must be an IANA time zone such as Europe/Paris' },
  );
