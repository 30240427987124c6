import type { LabVirtualMachine } from '@azure/arm-devtestlabs';
import type { AzureContext } from '../azure/azureContext';
import { computeClient } from '../azure/compute';
import { callAzure } from '../azure/azureErrors';
import { ErrorCodes, isAbortError } from '../errors';
import { runPool } from '../pool';
import { type ImageGeneration, parseHyperVGeneration, parseSecurityType } from '../vhdRoute';
import { parseDiskId } from './apply';
import { vmFacts } from './plan';

/**
 * The generation and security type of each tagged factory VM's OS disk, read from Compute (DevTest
 * Labs does not say), keyed by disk id in lower case, so the plan can refuse what the VHD route cannot
 * carry before anything is copied. A disk that cannot be read is left out: saving it then fails on the
 * same read, with that error.
 */
export async function readOsDisks(
  azure: AzureContext,
  vms: readonly LabVirtualMachine[],
  options: { maxConcurrentJobs: number; signal?: AbortSignal },
): Promise<Map<string, ImageGeneration>> {
  const diskIds = [
    ...new Set(
      vms
        .map(vmFacts)
        .filter((f) => f.vm.imagePath !== undefined && f.osDiskId && /\/providers\/Microsoft\.Compute\/disks\//i.test(f.osDiskId))
        .map((f) => f.osDiskId!.toLowerCase()),
    ),
  ];
  const disks = new Map<string, ImageGeneration>();
  const results = await runPool(
    diskIds,
    options.maxConcurrentJobs,
    async (id, _index, signal) => {
      const disk = parseDiskId(id);
      const found = await callAzure(
        `Reading the OS disk '${disk.name}'`,
        () => computeClient(azure, disk.subscriptionId).disks.get(disk.resourceGroup, disk.name, { abortSignal: signal }),
        { notFound: ErrorCodes.VmHasNoOsDisk, subject: disk.name },
      );
      disks.set(id, {
        // Compute leaves hyperVGeneration out for disks made before generations existed: those are Generation 1.
        hyperVGeneration: parseHyperVGeneration(found.hyperVGeneration) ?? 'V1',
        securityType: parseSecurityType(found.securityProfile?.securityType),
      });
    },
    { signal: options.signal },
  );
  for (const result of results) {
    if (result.status === 'rejected' && isAbortError(result.reason)) throw result.reason;
  }
  azure.reporter.debug(`Read the generation of ${disks.size} of ${diskIds.length} factory VM OS disk(s).`);
  return disks;
}
