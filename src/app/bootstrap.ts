import { countWorkspaces, findWorkspaceByKeyHash } from '../store/repos/workspaces.ts';
import { hashApiKey, isWellFormedApiKey } from './api-keys.ts';
import type { Services } from './services.ts';
import { type CreatedWorkspace, createWorkspaceIn } from './workspaces.ts';

export type BootstrapOutcome =
  | { created: true; seeded: CreatedWorkspace }
  | { created: false; bootstrapKeyValid: boolean | null };

/**
 * First start: on a database without any workspace, create the sandbox workspace with its two locks and an
 * API key (`bootstrapApiKey` when given). Any later start changes nothing. Two processes starting together
 * on one Postgres race on the `meta` row: the loser's transaction fails on the primary key and it reports
 * "not created".
 */
export async function bootstrap(
  services: Pick<Services, 'store' | 'providers' | 'masterKey'>,
  options: { now: number; bootstrapApiKey?: string | undefined },
): Promise<BootstrapOutcome> {
  const { store } = services;
  const existing = async (): Promise<BootstrapOutcome> => ({
    created: false,
    bootstrapKeyValid: options.bootstrapApiKey
      ? (await findWorkspaceByKeyHash(store.db, hashApiKey(options.bootstrapApiKey))) !== null
      : null,
  });
  if ((await countWorkspaces(store.db)) > 0) return existing();
  if (options.bootstrapApiKey !== undefined && !isWellFormedApiKey(options.bootstrapApiKey)) {
    throw new Error(
      'LATCHKEY_BOOTSTRAP_API_KEY must look like seam_<16 or more letters, digits or underscores>',
    );
  }
  try {
    const seeded = await store.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('meta')
        .values({ key: 'bootstrapped_at', value: String(options.now) })
        .execute();
      return createWorkspaceIn(services, tx, {
        name: 'Sandbox',
        is_sandbox: true,
        now: options.now,
        api_key: options.bootstrapApiKey,
      });
    });
    return { created: true, seeded };
  } catch (error) {
    // Another process seeded first (its meta row won); anything else is a real failure.
    if ((await countWorkspaces(store.db)) > 0) return existing();
    throw error;
  }
}
