// OAuth2 scopes of the igloohome API. The names are igloohome's (seen in integrators' code, see
// docs/providers.md); `igloohomeapi/sandbox-pairing` is Latchkey's own.

export const SCOPES = {
  getDevices: 'igloohomeapi/get-devices',
  algopinHourly: 'igloohomeapi/algopin-hourly',
  algopinDaily: 'igloohomeapi/algopin-daily',
  algopinOnetime: 'igloohomeapi/algopin-onetime',
  algopinPermanent: 'igloohomeapi/algopin-permanent',
  /** Latchkey extension: read a sandbox lock's key (GET /devices/{id}/sandbox_pairing_key). */
  sandboxPairing: 'igloohomeapi/sandbox-pairing',
} as const;

/** What this server implements: a new client gets these unless told otherwise. */
export const SERVED_SCOPES: readonly string[] = [
  SCOPES.getDevices,
  SCOPES.algopinHourly,
  SCOPES.algopinDaily,
  SCOPES.algopinOnetime,
  SCOPES.algopinPermanent,
];

/**
 * igloohome scopes this server knows but does not serve (bridge jobs, properties). A client may hold them so
 * that integrations which ask for "every scope" at the token endpoint still get a token; they open nothing.
 */
export const UNSERVED_IGLOOHOME_SCOPES: readonly string[] = [
  'igloohomeapi/get-job-status',
  'igloohomeapi/get-properties',
  'igloohomeapi/create-pin-bridge-proxied-job',
  'igloohomeapi/delete-pin-bridge-proxied-job',
  'igloohomeapi/lock-bridge-proxied-job',
  'igloohomeapi/unlock-bridge-proxied-job',
];

export const KNOWN_SCOPES: readonly string[] = [
  ...SERVED_SCOPES,
  SCOPES.sandboxPairing,
  ...UNSERVED_IGLOOHOME_SCOPES,
];
