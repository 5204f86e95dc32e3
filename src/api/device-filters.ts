import { z } from 'zod';
import { DEVICE_CAPABILITY_FLAGS } from '../domain/seam/device.ts';
import type { DeviceFilters } from '../store/repos/devices.ts';
import { oneAndMany } from './params.ts';
import { id } from './schemas.ts';

/** The /devices/list filters, shared with /locks/list. */
export const deviceFilterFields = {
  connected_account_id: id().optional(),
  connected_account_ids: z.array(id()).optional(),
  device_ids: z.array(id()).optional(),
  device_type: z.string().optional(),
  device_types: z.array(z.string()).optional(),
  manufacturer: z.string().optional(),
  include_if: z.array(z.enum(DEVICE_CAPABILITY_FLAGS)).optional(),
  exclude_if: z.array(z.enum(DEVICE_CAPABILITY_FLAGS)).optional(),
  search: z.string().min(1).optional(),
  created_before: z.iso.datetime({ offset: true }).optional(),
};

type FilterInput = z.output<z.ZodObject<typeof deviceFilterFields>>;

export function toDeviceFilters(input: FilterInput): DeviceFilters {
  return {
    device_ids: input.device_ids,
    connected_account_ids: oneAndMany(input.connected_account_id, input.connected_account_ids),
    device_types: oneAndMany(input.device_type, input.device_types),
    manufacturer: input.manufacturer,
    search: input.search,
    include_if: input.include_if,
    exclude_if: input.exclude_if,
    created_before: input.created_before === undefined ? undefined : Date.parse(input.created_before),
  };
}
