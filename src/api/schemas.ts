import { z } from 'zod';

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
