// Dates as the dashboard shows them. Locks count whole UTC hours, so the dashboard speaks UTC throughout
// (and says so); daily-bound slots follow the lock's own time zone, named where it matters.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** The UTC midnight of the day containing `ms`. */
export const utcDayStart = (ms: number): number => Math.floor(ms / DAY) * DAY;

const toMs = (t: string | number): number => (typeof t === 'number' ? t : Date.parse(t));

/** "Mon 7 Jan". */
export function formatDay(t: string | number): string {
  const d = new Date(toMs(t));
  return `${WEEKDAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
}

/** "Mon 7 Jan 2030, 10:00 UTC". */
export function formatInstant(t: string | number): string {
  const d = new Date(toMs(t));
  return `${formatDay(d.getTime())} ${d.getUTCFullYear()}, ${two(d.getUTCHours())}:${two(d.getUTCMinutes())} UTC`;
}

/** "4 h", "2 d 6 h", "30 d". */
export function formatLength(ms: number): string {
  const days = Math.floor(ms / DAY);
  const hours = Math.round((ms % DAY) / HOUR);
  if (days === 0) return `${hours} h`;
  return hours === 0 ? `${days} d` : `${days} d ${hours} h`;
}

/**
 * "Mon 7 Jan 2030, 10:00 → 14:00 UTC (4 h)" within one day, "Mon 7 Jan 2030, 10:00 → Wed 6 Feb 2030, 10:00 UTC
 * (30 d)" across days; ongoing codes have no end.
 */
export function formatWindow(startsAt: string | number | null, endsAt: string | number | null): string {
  if (startsAt === null) return 'ongoing';
  const start = toMs(startsAt);
  if (endsAt === null) return `from ${formatInstant(start)}, no end`;
  const end = toMs(endsAt);
  const length = formatLength(end - start);
  const sameDay = utcDayStart(start) === utcDayStart(end - 1) && end - start < DAY;
  if (sameDay) {
    const e = new Date(end);
    const endTime =
      end === utcDayStart(start) + DAY ? '24:00' : `${two(e.getUTCHours())}:${two(e.getUTCMinutes())}`;
    return `${formatInstant(start).replace(/ UTC$/, '')} → ${endTime} UTC (${length})`;
  }
  return `${formatInstant(start).replace(/ UTC$/, '')} → ${formatInstant(end)} (${length})`;
}

/** A `datetime-local` value read as UTC ("2030-01-07T10:15" → ms), or undefined when empty or invalid. */
export function parseUtcInput(value: string): number | undefined {
  if (value.trim() === '') return undefined;
  const ms = Date.parse(`${value}Z`);
  return Number.isFinite(ms) ? ms : undefined;
}

/** ms → a `datetime-local` value in UTC ("2030-01-07T10:15"). */
export function toUtcInput(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16);
}

export { DAY, HOUR };
