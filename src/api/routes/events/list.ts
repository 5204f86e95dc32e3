import { z } from 'zod';
import { listEvents } from '../../../store/repos/events.ts';
import { invalidInput } from '../../errors.ts';
import { oneAndMany } from '../../params.ts';
import { defineRoute, READ_METHODS } from '../../route.ts';
import { id, instant, limit } from '../../schemas.ts';

export default defineRoute({
  path: '/events/list',
  methods: READ_METHODS,
  summary: 'List events since an instant or between two (oldest first)',
  input: z.strictObject({
    since: instant().optional(),
    between: z.array(instant()).length(2).optional(),
    device_id: id().optional(),
    device_ids: z.array(id()).optional(),
    access_code_id: id().optional(),
    access_code_ids: z.array(id()).optional(),
    event_type: z.string().min(1).optional(),
    event_types: z.array(z.string().min(1)).optional(),
    event_ids: z.array(id()).optional(),
    connected_account_id: id().optional(),
    limit: limit(500),
  }),
  responseKeys: ['events'],
  handler: async (ctx, input) => {
    if (input.since === undefined && input.between === undefined) {
      throw invalidInput('Give since (an ISO 8601 instant) or between (two instants).');
    }
    const events = await listEvents(
      ctx.store.db,
      ctx.workspace.workspace_id,
      {
        since: input.since,
        between: input.between as [number, number] | undefined,
        device_ids: oneAndMany(input.device_id, input.device_ids),
        access_code_ids: oneAndMany(input.access_code_id, input.access_code_ids),
        event_types: oneAndMany(input.event_type, input.event_types),
        event_ids: input.event_ids,
      },
      input.limit,
    );
    const filtered =
      input.connected_account_id === undefined
        ? events
        : events.filter((e) => e.connected_account_id === input.connected_account_id);
    return { events: filtered };
  },
});
