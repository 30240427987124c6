import { execFile } from 'node:child_process';
import { createAzureContext } from '../../core/azure/azureContext';
import { computeClient } from '../../core/azure/compute';
import { copyBlob, sasBlobClient } from '../../core/azure/blobCopy';
import { envEndpointReader } from '../../core/azure/endpoint';
import { readServiceConnection } from '../../core/azure/serviceConnection';
import { isFactoryError } from '../../core/errors';
import { MemoryReporter } from '../../core/report';

/**
 * The connection layer in a process of its own that knows the service connection only from its
 * environment, as a task process does: the agent's ENDPOINT_* variables and, for a managed identity,
 * the machine's IDENTITY_ENDPOINT and IDENTITY_HEADER, which the identity library reads once per
 * process. `runConnection(flow, input, env)` runs a flow there and returns what it printed.
 */

export interface CopyInput {
  connectionId: string;
  subscriptionId: string;
  lab: string;
  vm: string;
  blobName: string;
}

export interface CopyOutput {
  totalBytes: number;
  copyMs: number;
  /** Resource Manager calls made while the copy ran. */
  armCallsDuringCopy: number;
  /** The copied blob was listed, then deleted, through Azure AD after the copy. */
  listedAfterCopy: boolean;
}

export interface FindLabInput {
  connectionId: string;
  subscriptionId: string;
  lab: string;
}

export type RunResult<T> = { ok: true; value: T } | { ok: false; error: { code?: string; message: string; fix?: string } };

const flows = {
  /**
   * A disk copy into the lab's storage while other jobs keep calling Resource Manager, then a listing
   * and a deletion through Azure AD: every kind of call, before, during and after a long wait.
   */
  async copy(input: CopyInput): Promise<CopyOutput> {
    const context = connect(input.connectionId);
    const lab = await context.labs.find(input.subscriptionId, input.lab);
    const dtl = context.devTestLabs(input.subscriptionId);
    const vm = await dtl.virtualMachines.get(lab.resourceGroup, lab.name, input.vm, { expand: 'properties($expand=computeVm)' });
    const diskId = vm.computeVm!.osDiskId!;
    const diskGroup = /\/resourceGroups\/([^/]+)/i.exec(diskId)![1];
    const diskName = diskId.split('/').pop()!;
    const compute = computeClient(context, input.subscriptionId);
    const options = { updateIntervalInMs: context.pollIntervalMs };
    const access = await compute.disks.beginGrantAccessAndWait(diskGroup, diskName, { access: 'Read', durationInSeconds: 600 }, options);
    try {
      const uploadUri = await context.labs.storage(lab).uploadUri(input.blobName);
      const started = Date.now();
      let copying = true;
      const busy = (async () => {
        let calls = 0;
        while (copying) {
          await dtl.labs.get(lab.resourceGroup, lab.name);
          calls++;
          await new Promise((resolve) => setTimeout(resolve, 400));
        }
        return calls;
      })();
      let copied: { totalBytes: number };
      try {
        copied = await copyBlob(sasBlobClient(uploadUri, context.storageRetryOptions), access.accessSAS!, { reporter: context.reporter });
      } finally {
        copying = false;
      }
      const copyMs = Date.now() - started;
      const armCallsDuringCopy = await busy;

      const container = await context.labs.storage(lab).containerClient();
      let listedAfterCopy = false;
      for await (const blob of container.listBlobsFlat()) if (blob.name === input.blobName) listedAfterCopy = true;
      await container.deleteBlob(input.blobName);
      return { totalBytes: copied.totalBytes, copyMs, armCallsDuringCopy, listedAfterCopy };
    } finally {
      await compute.disks.beginRevokeAccessAndWait(diskGroup, diskName, options);
    }
  },

  async findLab(input: FindLabInput): Promise<{ id: string }> {
    const lab = await connect(input.connectionId).labs.find(input.subscriptionId, input.lab);
    return { id: lab.id };
  },
};

export type Flow = keyof typeof flows;
type InputOf<F extends Flow> = Parameters<(typeof flows)[F]>[0];
type OutputOf<F extends Flow> = Awaited<ReturnType<(typeof flows)[F]>>;

function connect(connectionId: string) {
  const connection = readServiceConnection(envEndpointReader(process.env), connectionId);
  return createAzureContext(connection, { reporter: new MemoryReporter(), pollIntervalMs: 100 });
}

/** Runs `flow` in a new process with exactly `env` added to this one's environment. */
export function runConnection<F extends Flow>(flow: F, input: InputOf<F>, env: Record<string, string>): Promise<RunResult<OutputOf<F>>> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  // A variable this process happens to have must not change which identity the run uses.
  for (const name of Object.keys(childEnv)) if (/^(ENDPOINT_|IDENTITY_|MSI_|IMDS_|SYSTEM_OIDC)/i.test(name)) delete childEnv[name];
  Object.assign(childEnv, env);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [__filename, flow, JSON.stringify(input)], { env: childEnv, timeout: 90_000 }, (error, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop();
      try {
        resolve(JSON.parse(line ?? '') as RunResult<OutputOf<F>>);
      } catch {
        reject(new Error(`The connection run ${flow} printed no result (${error?.message ?? 'no error'}):\n${stdout}\n${stderr}`));
      }
    });
  });
}

async function main(): Promise<void> {
  const [flow, input] = process.argv.slice(2) as [Flow, string];
  let result: RunResult<unknown>;
  try {
    result = { ok: true, value: await (flows[flow] as (input: unknown) => Promise<unknown>)(JSON.parse(input)) };
  } catch (error) {
    if (!isFactoryError(error)) throw error;
    result = { ok: false, error: { code: error.code, message: error.message, fix: error.fix } };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  });
}
