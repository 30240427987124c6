import type { AzureContext } from '../azure/azureContext';
import { normalizeImagePath } from '../config/imagePaths';
import { getTag, isFactoryCustomImage, Tags } from '../factoryImages';
import { STORE_SCOPE_KEY, type ObservedCustomImage, type ScopePlan } from '../retire/plan';
import { isPowerShellFactoryImage } from '../retire/powerShellImages';
import { observeAndPlanRetirement } from '../retire/retireImages';
import { imageBaseName } from '../snap/naming';
import type { CatalogRouteReader, HeldImage, HeldImageState, RouteReadOptions, RouteState } from './route';

export interface VhdRouteOptions {
  /** The factory lab's subscription. */
  subscriptionId: string;
  /** The factory lab, whose storage holds the image store. */
  labName: string;
}

/**
 * The VHD route's reader: the factory's image store is the source; each lab holds the factory's custom
 * images. It reads exactly what RetireImages reads and runs its plan, so a mark "retention removes" on
 * the page is what the next RetireImages run with the same ImagesToSave deletes.
 */
export function vhdRouteReader(azure: AzureContext, options: VhdRouteOptions): CatalogRouteReader {
  return {
    route: 'vhd',
    async read(readOptions: RouteReadOptions): Promise<RouteState> {
      const { configuration, signal } = readOptions;
      const factory = await azure.labs.find(options.subscriptionId, options.labName, { signal });
      const { observed, plan } = await observeAndPlanRetirement(azure, configuration, factory, readOptions, signal);
      const scopes = new Map(plan.scopes.map((scope) => [scope.key, scope]));
      const storeScope = scopes.get(STORE_SCOPE_KEY);

      const labs = configuration.labs.map((lab, position) => {
        const key = observed.labKeys[position];
        const observation = observed.labs.find((entry) => entry.key === key);
        if (!observation || !observation.read.ok) {
          const reason = observation && !observation.read.ok ? observation.read.reason : 'it was not read';
          const fix = observed.fixes.get(key);
          return { labIndex: lab.index, read: { ok: false as const, reason: fix ? `${reason} ${fix}` : reason } };
        }
        const retiring = retiringNames(scopes.get(key));
        const held = observation.read.value
          .filter(
            (image) => isFactoryCustomImage(image.tags, factory.id) || (readOptions.includePowerShellImages && isPowerShellFactoryImage(image.name, image.tags)),
          )
          .map((image) => heldImage(image, retiring));
        return { labIndex: lab.index, read: { ok: true as const, value: held } };
      });

      return {
        route: 'vhd',
        sourceLabel: observed.store.label,
        source: observed.store.read.ok
          ? {
              ok: true,
              value: observed.storeImages.map((image) => ({
                name: image.imageName,
                version: versionOf(image.imageName, image.imagePath),
                imagePath: normalizeImagePath(image.imagePath),
                createdUtc: image.createdUtc,
                sizeBytes: image.sizeBytes,
                osType: image.osType,
                // From the VHD's metadata, which records the source VM's generation and security type.
                generation: image.hyperVGeneration,
                securityType: image.securityType,
                description: image.description,
              })),
            }
          : observed.store.read,
        sourceRetiring: retiringNames(storeScope),
        labs,
      };
    },
  };
}

function heldImage(image: ObservedCustomImage, retiring: Map<string, string>): HeldImage {
  const imagePath = normalizeImagePath(getTag(image.tags, Tags.ImagePath) ?? '');
  const created = getTag(image.tags, Tags.ImageFactoryCreated) ?? (image.creationDate instanceof Date ? image.creationDate.toISOString() : image.creationDate);
  const why = retiring.get(image.name.toLowerCase());
  return {
    name: image.name,
    version: versionOf(image.name, imagePath),
    imagePath,
    ...(created ? { createdUtc: created } : {}),
    state: heldState(image.provisioningState),
    ...(why ? { retiring: why } : {}),
  };
}

function heldState(provisioningState: string | undefined): HeldImageState {
  const state = (provisioningState ?? 'Succeeded').toLowerCase();
  if (state === 'succeeded') return 'ready';
  if (state === 'failed') return 'failed';
  if (state === 'deleting') return 'deleting';
  return 'creating';
}

/** What retention deletes in a scope, by lower-case image name, with why. */
function retiringNames(scope: ScopePlan | undefined): Map<string, string> {
  return new Map((scope?.delete ?? []).map((deletion) => [deletion.name.toLowerCase(), deletion.detail]));
}

/** An image name without the part its ImagePath gives it: `WindowsServer_Server2022-Datacenter-Nov-24-2026` is `Nov-24-2026`. */
export function versionOf(imageName: string, imagePath: string): string {
  let base: string;
  try {
    base = imageBaseName(imagePath).base;
  } catch {
    return imageName;
  }
  const prefix = `${base}-`;
  return imageName.toLowerCase().startsWith(prefix.toLowerCase()) && imageName.length > prefix.length ? imageName.slice(prefix.length) : imageName;
}
