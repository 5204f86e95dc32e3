import type { RouteDefinition } from '../route.ts';
import accessCodesCreate from './access_codes/create.ts';
import accessCodesCreateMultiple from './access_codes/create_multiple.ts';
import accessCodesDelete from './access_codes/delete.ts';
import accessCodesGenerateCode from './access_codes/generate_code.ts';
import accessCodesGet from './access_codes/get.ts';
import accessCodesList from './access_codes/list.ts';
import accessCodesUpdate from './access_codes/update.ts';
import actionAttemptsGet from './action_attempts/get.ts';
import actionAttemptsList from './action_attempts/list.ts';
import connectedAccountsGet from './connected_accounts/get.ts';
import connectedAccountsList from './connected_accounts/list.ts';
import devicesGet from './devices/get.ts';
import devicesList from './devices/list.ts';
import devicesSimulateConnect from './devices/simulate/connect.ts';
import devicesSimulateCreate from './devices/simulate/create.ts';
import devicesSimulateDisconnect from './devices/simulate/disconnect.ts';
import eventsGet from './events/get.ts';
import eventsList from './events/list.ts';
import locksGet from './locks/get.ts';
import locksList from './locks/list.ts';
import locksSimulateBluetoothDeleteCode from './locks/simulate/bluetooth_delete_code.ts';
import locksSimulateKeypadCodeEntry from './locks/simulate/keypad_code_entry.ts';
import locksSimulateSetClockDrift from './locks/simulate/set_clock_drift.ts';
import webhooksCreate from './webhooks/create.ts';
import webhooksDelete from './webhooks/delete.ts';
import webhooksDeliveriesList from './webhooks/deliveries/list.ts';
import webhooksDeliveriesResend from './webhooks/deliveries/resend.ts';
import webhooksGet from './webhooks/get.ts';
import webhooksList from './webhooks/list.ts';
import webhooksUpdate from './webhooks/update.ts';
import workspacesGet from './workspaces/get.ts';
import workspacesSimulateAdvanceClock from './workspaces/simulate/advance_clock.ts';

/** Every API route; each file's path mirrors its URL. */
export const routes: readonly RouteDefinition[] = [
  accessCodesCreate,
  accessCodesCreateMultiple,
  accessCodesDelete,
  accessCodesGenerateCode,
  accessCodesGet,
  accessCodesList,
  accessCodesUpdate,
  actionAttemptsGet,
  actionAttemptsList,
  connectedAccountsGet,
  connectedAccountsList,
  devicesGet,
  devicesList,
  devicesSimulateConnect,
  devicesSimulateCreate,
  devicesSimulateDisconnect,
  eventsGet,
  eventsList,
  locksGet,
  locksList,
  locksSimulateBluetoothDeleteCode,
  locksSimulateKeypadCodeEntry,
  locksSimulateSetClockDrift,
  webhooksCreate,
  webhooksDelete,
  webhooksDeliveriesList,
  webhooksDeliveriesResend,
  webhooksGet,
  webhooksList,
  webhooksUpdate,
  workspacesGet,
  workspacesSimulateAdvanceClock,
] as unknown as readonly RouteDefinition[];
