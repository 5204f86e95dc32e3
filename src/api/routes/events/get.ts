import { z } from 'zod';
import { getEvent } from '../../../store/repos/events.ts';
import { notFound } from '../../errors.ts';
import { defineRoute, READ_METHODS } from '../../route.ts';
import { id } from '../../schemas.ts';

export default defineRoute({
  path: '/events/get',
  methods: READ_METHODS,
  summary: 'Get an event by id',
  input: z.strictObject({ event_id: id() }),
  responseKeys: ['event'],
  handler: async (ctx, input) => {
    const event = await getEvent(ctx.store.db, ctx.workspace.workspace_id, input.event_id);
    if (!event) throw notFound('event', 'Event not found.', { event_id: input.event_id });
    return { event };
  },
});
