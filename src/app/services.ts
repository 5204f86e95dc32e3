import type { CodeProvider } from '../codeserver/provider.ts';
import type { ProviderRegistry } from '../codeserver/registry.ts';
import type { Store } from '../store/index.ts';
import type { NetworkPolicy } from './webhook-sender.ts';

/**
 * What the API routes, the jobs and the CLI share: the database, the code server and the master key that
 * seals the virtual locks' memory. Built once at start-up (or per test).
 */
export interface Services {
  store: Store;
  /** The built-in code server. */
  codes: CodeProvider;
  /** Which code server serves a device (a connected account may use a remote one). */
  providers: ProviderRegistry;
  masterKey: Buffer;
  /** Which networks webhook URLs may reach (server-side request forgery guard). */
  network: NetworkPolicy;
  /** Real time; a workspace sees it moved by its sandbox offset. Tests pin it. */
  realNow: () => number;
  /** Runs every durable job due now (advance_clock needs transitions to happen at once). */
  runDueJobs: () => Promise<void>;
}
