import { z } from 'zod';
import { scheduleDeliveryAttempt } from '../../../../app/webhooks.ts';
import { getDeliveryRow, getWebhookRow, updateDeliveryRow } from '../../../../store/repos/webhooks.ts';
import { ApiError, notFound } from '../../../errors.ts';
import { defineRoute, WRITE_METHODS } from '../../../route.ts';

export default defineRoute({
  path: '/webhooks/deliveries/resend',
  methods: WRITE_METHODS,
  summary: 'Send a failed (or succeeded) delivery again, now, with the same svix-id',
  input: z.strictObject({
    delivery_id: z.string().regex(/^msg_[0-9a-f]{32}$/, 'must be a delivery id (msg_…)'),
  }),
  responseKeys: [],
  handler: async (ctx, input) => {
    const wsId = ctx.workspace.workspace_id;
    await ctx.store.db.transaction().execute(async (tx) => {
      const delivery = await getDeliveryRow(tx, wsId, input.delivery_id);
      if (!delivery) throw notFound('delivery', 'Delivery not found.', { delivery_id: input.delivery_id });
      // Read through the transaction: on SQLite a query outside it would wait for its connection forever.
      if (!(await getWebhookRow(tx, wsId, delivery.webhook_id))) {
        throw notFound('webhook', 'Webhook not found.', { webhook_id: delivery.webhook_id });
      }
      if (delivery.status === 'pending') {
        throw new ApiError(
          409,
          'delivery_pending',
          'This delivery is still being attempted; wait for its outcome.',
        );
      }
      await updateDeliveryRow(tx, delivery.delivery_id, {
        status: 'pending',
        next_attempt_at: ctx.now,
        updated_at: ctx.now,
      });
      await scheduleDeliveryAttempt(tx, wsId, delivery.delivery_id, ctx.now, ctx.now);
    });
    return {};
  },
});
