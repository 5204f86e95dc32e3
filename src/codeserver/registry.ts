import type { DeviceRecord } from '../domain/records.ts';
import type { Db } from '../store/index.ts';
import { getSealedProviderConfig, setSealedProviderConfig } from '../store/repos/connected-accounts.ts';
import type { CodeProvider } from './provider.ts';
import { RemoteCodeProvider, type RemoteProviderConfig } from './remote.ts';
import { open, seal } from './sealed-box.ts';

const configContext = (accountId: string) => `provider_config|${accountId}`;

/**
 * Which code server serves a device: its connected account's remote one when configured, else the built-in
 * registry. Remote providers are kept per account, so their access tokens are cached until they expire.
 */
export class ProviderRegistry {
  private readonly remotes = new Map<string, { sealed: string; provider: RemoteCodeProvider }>();

  constructor(
    readonly builtin: CodeProvider,
    private readonly masterKey: Uint8Array,
    private readonly realNow: () => number,
  ) {}

  async forDevice(db: Db, device: Pick<DeviceRecord, 'connected_account_id'>): Promise<CodeProvider> {
    return (await this.remoteFor(db, device.connected_account_id)) ?? this.builtin;
  }

  /** The account's remote provider, or null when it uses the built-in code server. */
  async remoteFor(db: Db, connectedAccountId: string): Promise<RemoteCodeProvider | null> {
    const sealed = await getSealedProviderConfig(db, connectedAccountId);
    if (sealed === null) return null;
    const cached = this.remotes.get(connectedAccountId);
    if (cached?.sealed === sealed) return cached.provider;
    const config = JSON.parse(
      open(this.masterKey, sealed, configContext(connectedAccountId)).toString('utf8'),
    );
    const provider = new RemoteCodeProvider(config as RemoteProviderConfig, this.realNow);
    this.remotes.set(connectedAccountId, { sealed, provider });
    return provider;
  }

  async configure(db: Db, connectedAccountId: string, config: RemoteProviderConfig | null): Promise<void> {
    const sealed =
      config === null
        ? null
        : seal(this.masterKey, Buffer.from(JSON.stringify(config)), configContext(connectedAccountId));
    await setSealedProviderConfig(db, connectedAccountId, sealed);
  }
}
