import type { EventStamp, SeamEvent } from '../domain/seam/events.ts';
import type { Db } from '../store/index.ts';
import { insertEvents } from '../store/repos/events.ts';
import { uuidv7 } from './ids.ts';
import { queueDeliveries } from './webhooks.ts';

/** A fresh event id and its instants on the workspace clock. */
export function stampAt(now: number, occurredAt: number = now): EventStamp {
  return { event_id: uuidv7(), occurred_at: occurredAt, created_at: now };
}

/**
 * Appends events to the log inside the caller's transaction, so an event exists exactly when the change it
 * reports does — and so do its webhook deliveries (the outbox).
 */
export async function recordEvents(tx: Db, events: SeamEvent[]): Promise<void> {
  await insertEvents(tx, events);
  await queueDeliveries(tx, events);
}
