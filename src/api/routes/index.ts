import type { RouteDefinition } from '../route.ts';
import actionAttemptsGet from './action_attempts/get.ts';
import actionAttemptsList from './action_attempts/list.ts';
import connectedAccountsGet from './connected_accounts/get.ts';
import connectedAccountsList from './connected_accounts/list.ts';
import devicesGet from './devices/get.ts';
import devicesList from './devices/list.ts';
import devicesSimulateCreate from './devices/simulate/create.ts';
import locksGet from './locks/get.ts';
import locksList from './locks/list.ts';
import workspacesGet from './workspaces/get.ts';

/** Every API route; each file's path mirrors its URL. */
export const routes: readonly RouteDefinition[] = [
  actionAttemptsGet,
  actionAttemptsList,
  connectedAccountsGet,
  connectedAccountsList,
  devicesGet,
  devicesList,
  devicesSimulateCreate,
  locksGet,
  locksList,
  workspacesGet,
] as unknown as readonly RouteDefinition[];
