import { imagePathKey, normalizeImagePath } from '../config/imagePaths';
import { ErrorCodes } from '../errors';
import { Tags } from '../factoryImages';
import { checkReadyToSave, checkTaggedVm, type NotSavedAction, skipFromError, skipVm, type SnapVm, type VmFacts } from '../snap/plan';
import { describeVmActions, kindCounter, planLine, resumeLine } from '../snap/planLines';
import type { ObservedDefinition, ObservedGallery } from './gallery';
import { regionKey } from '../azure/regions';
import { compareVersions, definitionNames, versionNameFor } from './naming';

/**
 * What SnapImagesFromVMs does on the gallery route, decided from the factory lab's VMs, the gallery and
 * labs.json alone: per ImagePath one image definition (made if missing, never changed), per VM one image
 * version made server-side from the VM's disks, replicated to the regions of the labs that select it.
 * A VM whose disk already has a version is not published again; a version an interrupted run left
 * being made is followed; one that failed is replaced.
 */

export interface PublishVmFacts extends VmFacts {
  /** The Compute VM the version is made from (its OS and data disks). */
  computeVmId?: string;
  /** From the OS disk: `V1`/`V2`, and `TrustedLaunch` or `Standard`. */
  hyperVGeneration?: string;
  securityType?: string;
}

export interface DefinitionSpec {
  name: string;
  identifier: { publisher: string; offer: string; sku: string };
  osType: 'Windows' | 'Linux';
  hyperVGeneration: string;
  securityType: string;
  imagePath: string;
}

export type PublishAction =
  | {
      kind: 'publish';
      vm: SnapVm;
      definition: DefinitionSpec;
      /** The definition does not exist yet: made before any version. */
      createDefinition: boolean;
      versionName: string;
      targetRegions: string[];
      tags: Record<string, string>;
      computeVmId: string;
      diskId: string;
      /** A version of this disk that failed; deleted first. */
      replaces?: string;
    }
  | { kind: 'resume'; vm: SnapVm; definitionName: string; versionName: string }
  | {
      kind: 'already-published';
      vm: SnapVm;
      definitionName: string;
      versionName: string;
      /** Later versions of the same disk that a run killed while giving way to this one left behind: deleted. */
      duplicates: string[];
    }
  | NotSavedAction;

export interface PublishPlan {
  createdUtc: string;
  /** The gallery is made (in the factory lab's region) before anything else. */
  createGallery: boolean;
  actions: PublishAction[];
}

export interface PublishPlanInputs {
  vms: readonly PublishVmFacts[];
  gallery: ObservedGallery;
  /** Region of the gallery (the factory lab's when it is made): every version is replicated there too. */
  galleryLocation: string;
  /** Regions of the labs that select each ImagePath, by imagePathKey. */
  regionsByImagePath: ReadonlyMap<string, readonly string[]>;
  factoryLabId: string;
  now: Date;
}

const same = (a: string | undefined, b: string | undefined) => !!a && !!b && a.toLowerCase() === b.toLowerCase();

/** Why a VM's image cannot go under the existing definition (which cannot change), or undefined. */
function definitionMismatch(existing: ObservedDefinition, spec: DefinitionSpec): string | undefined {
  if (existing.osType && !same(existing.osType, spec.osType)) return `OS type ${existing.osType}, the VM ${spec.osType}`;
  if (!same(existing.hyperVGeneration, spec.hyperVGeneration)) return `Hyper-V generation ${existing.hyperVGeneration}, the VM ${spec.hyperVGeneration}`;
  const trusted = (type: string) => type.toLowerCase().startsWith('trustedlaunch');
  if (trusted(spec.securityType) && !trusted(existing.securityType)) return `security type ${existing.securityType}, the VM ${spec.securityType}`;
  return undefined;
}

export function planPublish(inputs: PublishPlanInputs): PublishPlan {
  const { gallery, now } = inputs;
  const createdUtc = now.toISOString();
  const actions: PublishAction[] = [];
  const newDefinitions = new Map<string, DefinitionSpec>();
  const takenVersions = new Map<string, Set<string>>();
  const versionsOf = (definition: string) => {
    let set = takenVersions.get(definition.toLowerCase());
    if (!set) {
      set = new Set(gallery.definitions.find((d) => same(d.name, definition))?.versions.map((v) => v.name) ?? []);
      takenVersions.set(definition.toLowerCase(), set);
    }
    return set;
  };

  const facts = [...inputs.vms].sort((a, b) => a.vm.name.localeCompare(b.vm.name, 'en', { sensitivity: 'base' }));
  for (const f of facts) {
    const { vm } = f;
    const tagged = checkTaggedVm(f);
    if ('kind' in tagged) {
      actions.push(tagged);
      continue;
    }
    const { diskId } = tagged;
    const published = gallery.definitions.flatMap((d) => d.versions.map((v) => ({ d, v }))).filter(({ v }) => same(v.sourceDiskId, diskId));
    const finished = published.filter(({ v }) => v.provisioningState === 'Succeeded').sort((a, b) => compareVersions(a.v.name, b.v.name));
    const done = finished[0];
    if (done) {
      const duplicates = finished.slice(1).filter(({ d, v }) => d === done.d && v.factoryLabId === inputs.factoryLabId.toLowerCase()).map(({ v }) => v.name);
      actions.push({ kind: 'already-published', vm, definitionName: done.d.name, versionName: done.v.name, duplicates });
      continue;
    }
    const running = published.find(({ v }) => ['Creating', 'Updating'].includes(v.provisioningState));
    if (running) {
      actions.push({ kind: 'resume', vm, definitionName: running.d.name, versionName: running.v.name });
      continue;
    }
    const notReady = checkReadyToSave(f);
    if (notReady) {
      actions.push(notReady);
      continue;
    }
    if (!f.computeVmId || !f.hyperVGeneration) {
      actions.push(
        skipVm(vm, 'error', ErrorCodes.SnapFailed, `VM '${vm.name}' (ImagePath '${vm.imagePath}') does not say which Compute VM it is or its disk's Hyper-V generation.`, 'Check the VM in the lab; recreate it from its template with MakeGoldenImageVMs.'),
      );
      continue;
    }
    let names;
    try {
      names = definitionNames(vm.imagePath!);
    } catch (error) {
      actions.push(skipFromError(vm, error));
      continue;
    }
    const imagePath = normalizeImagePath(vm.imagePath!);
    const spec: DefinitionSpec = {
      name: names.definitionName,
      identifier: names.identifier,
      osType: f.osType!,
      hyperVGeneration: f.hyperVGeneration,
      securityType: f.securityType === 'TrustedLaunch' ? 'TrustedLaunch' : 'Standard',
      imagePath,
    };
    const existing = gallery.definitions.find((d) => same(d.name, spec.name));
    const planned = newDefinitions.get(spec.name.toLowerCase());
    const mismatch = existing ? definitionMismatch(existing, spec) : planned ? definitionMismatch({ ...planned, name: planned.name, versions: [] }, spec) : undefined;
    if (mismatch) {
      actions.push(
        skipVm(
          vm,
          'error',
          ErrorCodes.GalleryDefinitionMismatch,
          `VM '${vm.name}' (ImagePath '${imagePath}') cannot be published under image definition '${spec.name}' of gallery '${gallery.ref.name}': the definition has ${mismatch}. A definition's OS type, generation and security type cannot change.`,
          `Give the template a new file name (a new ImagePath makes a new definition), or delete definition '${spec.name}' and its versions when no lab uses them.`,
        ),
      );
      continue;
    }
    if (!existing && !planned) newDefinitions.set(spec.name.toLowerCase(), spec);
    const failed = published.find(({ v }) => v.provisioningState === 'Failed');
    const taken = versionsOf(spec.name);
    const versionName = versionNameFor(now, taken);
    taken.add(versionName);
    const regions = [regionKey(inputs.galleryLocation), ...(inputs.regionsByImagePath.get(imagePathKey(imagePath)) ?? []).map(regionKey)];
    actions.push({
      kind: 'publish',
      vm,
      definition: spec,
      createDefinition: !existing && !planned,
      versionName,
      targetRegions: [...new Set(regions)],
      tags: {
        [Tags.ImagePath]: imagePath,
        [Tags.ImageFactory]: inputs.factoryLabId.toLowerCase(),
        [Tags.ImageFactoryCreated]: createdUtc,
        [Tags.ImageFactorySourceDisk]: diskId,
      },
      computeVmId: f.computeVmId,
      diskId,
      ...(failed ? { replaces: failed.v.name } : {}),
    });
  }
  return { createdUtc, createGallery: gallery.location === undefined, actions };
}

/** The plan as lines to print before anything changes. */
export function describePublishPlan(plan: PublishPlan, galleryName: string): string[] {
  const count = kindCounter(plan.actions);
  return [
    `Plan (gallery route, gallery '${galleryName}'): publish ${count('publish')} VM(s), resume ${count('resume')}, ${count('already-published')} already published, ${count('skip')} skipped, ${count('ignore')} not tagged.`,
    ...(plan.createGallery ? [planLine('create', `gallery '${galleryName}'`)] : []),
    ...describeVmActions<Exclude<PublishAction, NotSavedAction>>(plan.actions, (action, vm) => {
      switch (action.kind) {
        case 'publish': {
          const d = action.definition;
          return [
            ...(action.createDefinition
              ? [planLine('create', `image definition '${d.name}' (${d.osType}, Hyper-V ${d.hyperVGeneration}, security ${d.securityType}, ${d.identifier.publisher}/${d.identifier.offer}/${d.identifier.sku})`)]
              : []),
            planLine(
              'publish',
              `${vm} (ImagePath '${d.imagePath}') as version '${d.name}/${action.versionName}' to ${action.targetRegions.join(', ')}` +
                (action.replaces ? `, replacing the failed version '${action.replaces}'` : ''),
            ),
          ];
        }
        case 'resume':
          return [resumeLine(vm, `version '${action.definitionName}/${action.versionName}'`)];
        case 'already-published':
          return [
            planLine('done', `${vm}: its disk is already version '${action.definitionName}/${action.versionName}'`),
            ...action.duplicates.map((duplicate) => planLine('delete', `version '${action.definitionName}/${duplicate}': a second version of the same disk, left by an interrupted run`)),
          ];
      }
    }),
  ];
}
