import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/* Azurite ships no type declarations; these are the few members used here. */
interface AzuriteAccount { name: string; key1: Buffer; key2?: Buffer }
interface AzuriteAccountStore { accounts: Record<string, AzuriteAccount>; refresh(): void }
interface AzuriteBlobServer {
  start(): Promise<void>;
  close(): Promise<void>;
  clean(): Promise<void>;
  getHttpServerAddress(): string;
  accountDataStore: AzuriteAccountStore;
}

/* eslint-disable @typescript-eslint/no-require-imports */
const BlobServer: new (config: unknown) => AzuriteBlobServer = require('azurite/dist/src/blob/BlobServer').default;
const BlobConfiguration: new (...args: unknown[]) => unknown = require('azurite/dist/src/blob/BlobConfiguration').default;
const { MemoryExtentChunkStore } = require('azurite/dist/src/common/persistence/MemoryExtentStore') as {
  MemoryExtentChunkStore: new (sizeLimit?: number) => unknown;
};
const { AzuriteTelemetryClient } = require('azurite/dist/src/common/Telemetry') as {
  AzuriteTelemetryClient: { enableTelemetry: boolean };
};
const BlobHandler: { prototype: { validateCopySource: unknown } } = require('azurite/dist/src/blob/handlers/BlobHandler').default;
/* eslint-enable @typescript-eslint/no-require-imports */

let handlerPatched = false;

/**
 * Azurite validates a copy source by GETting the whole source blob into memory (it asks for
 * `comp=metadata`, which it serves as a full download): a sparse 127 GiB disk would exhaust the heap.
 * The HTTPS front verifies every copy source itself (a HEAD with the source's own SAS) before it
 * forwards a copy, so Azurite's own check is redundant and is switched off.
 */
function patchCopySourceValidation(): void {
  if (handlerPatched) return;
  BlobHandler.prototype.validateCopySource = async () => undefined;
  handlerPatched = true;
}

export interface AzuriteInstance {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Runs Azurite's blob service in this process: in-memory persistence, no telemetry, API version check
 * off, on loopback HTTP with an ephemeral port, serving exactly the given accounts.
 */
export async function startAzurite(accounts: ReadonlyMap<string, Buffer>): Promise<AzuriteInstance> {
  patchCopySourceValidation();
  AzuriteTelemetryClient.enableTelemetry = false;
  // In-memory Loki databases still probe these paths once; they must not exist.
  const location = join(tmpdir(), `local-azure-blob-${randomUUID()}`);
  const config = new BlobConfiguration(
    '127.0.0.1',
    0,
    undefined,
    join(location, '__azurite_db_blob__.json'),
    join(location, '__azurite_db_blob_extent__.json'),
    [{ locationId: 'Default', locationPath: join(location, '__blobstorage__'), maxConcurrency: 1 }],
    false, // access log
    undefined,
    false, // debug log
    undefined,
    true, // loose: ignore headers Azurite does not implement instead of failing the request
    true, // skip API version check: the SDK is newer than Azurite
    '',
    '',
    '',
    undefined, // no OAuth in Azurite: bearer tokens are checked by the front
    false,
    true, // in-memory persistence
    new MemoryExtentChunkStore(undefined), // private store, so two instances in one process stay apart
  );
  const server = new BlobServer(config);
  const accountRecords: Record<string, AzuriteAccount> = {};
  for (const [name, key] of accounts) accountRecords[name] = { name, key1: key };
  // Azurite reloads accounts from AZURITE_ACCOUNTS every minute; this instance serves its own set instead.
  const store = server.accountDataStore;
  store.refresh = function refresh(this: AzuriteAccountStore) {
    this.accounts = accountRecords;
  };
  await server.start();
  const origin = server.getHttpServerAddress();
  const port = Number(new URL(origin).port);
  let closed = false;
  return {
    origin,
    port,
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      await server.clean();
    },
  };
}
