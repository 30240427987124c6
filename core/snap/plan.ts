import type { LabVirtualMachine } from '@azure/arm-devtestlabs';
import { normalizeImagePath } from '../config/imagePaths';
import { ErrorCodes, FactoryError } from '../errors';
import { type FactoryImage, type OsType, getTag, Tags } from '../factoryImages';
import type { IncompleteImage, StoreListing, StoredImage } from '../imageStore';
import type { Issue } from '../report';
import { type ImageGeneration, VHD_ROUTE_FIX, vhdRouteRefusal } from '../vhdRoute';
import { imageBaseName, imageNameFor } from './naming';
import { describeVmActions, kindCounter, planLine, resumeLine } from './planLines';

/**
 * What SnapImagesFromVMs will do with each VM of the factory lab, decided from the lab's VMs (listed
 * with their compute status) and the image store's contents alone, so it can be printed before
 * anything changes and tested without Azure. A VM whose OS disk is already in the store is not saved
 * again; a copy an interrupted run left pending is followed, one it left failed is redone.
 */
export interface SnapVm {
  name: string;
  id: string;
  /** The ImagePath tag as written on the VM, when it has one. */
  imagePath?: string;
  /** What MakeGoldenImageVMs tagged the VM with, carried into the image's metadata. */
  templateHash?: string;
  baseImage?: string;
}

export type SnapAction =
  /** Grant read access to the disk, copy it into the store as `image`, revoke access; `replaces` is this disk's failed earlier copy. */
  | { kind: 'save'; vm: SnapVm; image: FactoryImage; diskId: string; nameNote?: string; replaces?: IncompleteImage }
  /** Follow the copy into `blobName` that an earlier run started, then revoke access. */
  | { kind: 'resume'; vm: SnapVm; image: FactoryImage; diskId: string; blobName: string }
  | { kind: 'already-saved'; vm: SnapVm; image: StoredImage }
  | NotSavedAction;

/** What either route plans for a VM it does not save or publish. */
export type NotSavedAction =
  /** A tagged VM that cannot be saved: a warning (not ready yet) or an error (cannot ever be saved as it is). */
  | { kind: 'skip'; vm: SnapVm; issue: Issue }
  /** A VM without the ImagePath tag: not the factory's to save. */
  | { kind: 'ignore'; vm: SnapVm; reason: string };

export interface SnapPlan {
  createdUtc: string;
  /** One per VM, in VM name order. */
  actions: SnapAction[];
  /** Copies earlier runs left failed or aborted; deleted before any copy starts. */
  discard: IncompleteImage[];
  /** Copies still pending that no VM of the lab accounts for; left alone, as another run may own them. */
  foreignPending: IncompleteImage[];
}

/** What the plan needs to know of a lab VM, read from the DevTest Labs answer. */
export interface VmFacts {
  vm: SnapVm;
  provisioningState?: string;
  /** e.g. `deallocated`, `running`; undefined when the lab did not say. */
  powerState?: string;
  osType?: OsType;
  osDiskId?: string;
  notes: string;
}

const MANAGED_DISK_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/disks\/[^/]+$/i;

export function vmFacts(vm: LabVirtualMachine): VmFacts {
  const name = vm.name ?? vm.id?.split('/').pop() ?? '(unnamed)';
  const powerStatus = vm.computeVm?.statuses?.find((s) => s.code?.toLowerCase().startsWith('powerstate/'))?.code;
  const powerState = powerStatus ? powerStatus.slice('powerstate/'.length).toLowerCase() : vm.lastKnownPowerState?.toLowerCase();
  const os = (vm.osType ?? vm.computeVm?.osType ?? vm.galleryImageReference?.osType)?.toLowerCase();
  return {
    vm: { name, id: vm.id ?? name, imagePath: getTag(vm.tags, Tags.ImagePath), ...madeBy(vm.tags) },
    provisioningState: vm.provisioningState,
    powerState,
    osType: os === 'windows' ? 'Windows' : os === 'linux' ? 'Linux' : undefined,
    osDiskId: vm.computeVm?.osDiskId,
    notes: vm.notes ?? '',
  };
}

function madeBy(tags: Record<string, string> | undefined): Pick<SnapVm, 'templateHash' | 'baseImage'> {
  const templateHash = getTag(tags, Tags.TemplateHash);
  const baseImage = getTag(tags, Tags.BaseImage);
  return { ...(templateHash ? { templateHash } : {}), ...(baseImage ? { baseImage } : {}) };
}

/**
 * @param osDisks generation and security type of the tagged VMs' OS disks, read from Compute, keyed by
 *   disk id in lower case; a disk not in it counts as Generation 1 without a security type.
 */
export function planSnap(
  vms: readonly LabVirtualMachine[],
  store: StoreListing,
  now: Date,
  osDisks: ReadonlyMap<string, ImageGeneration> = new Map(),
): SnapPlan {
  const createdUtc = now.toISOString();
  const facts = vms.map(vmFacts).sort((a, b) => compareText(a.vm.name, b.vm.name));
  const sameDisk = (a: string | undefined, b: string | undefined) => !!a && !!b && a.toLowerCase() === b.toLowerCase();

  // Names a new image may not take: every image in the store, every pending copy and every other
  // blob; failed copies give theirs back, as this run deletes them.
  const taken = new Set<string>(store.images.map((i) => i.imageName.toLowerCase()));
  for (const blob of store.incomplete) if (blob.copyStatus === 'pending' && blob.image) taken.add(blob.image.imageName.toLowerCase());
  // A blob that is not the factory's keeps its name: an image of that name would overwrite it.
  for (const name of store.otherBlobNames) if (/\.vhd$/i.test(name)) taken.add(name.slice(0, -'.vhd'.length).toLowerCase());

  const usedIncomplete = new Set<IncompleteImage>();
  const actions: SnapAction[] = [];
  const toName: { facts: VmFacts; diskId: string; osType: OsType; generation: ImageGeneration; replaces?: IncompleteImage }[] = [];

  for (const f of facts) {
    const { vm } = f;
    const tagged = checkTaggedVm(f);
    if ('kind' in tagged) {
      actions.push(tagged);
      continue;
    }
    const { diskId } = tagged;
    const saved = store.images.find((i) => sameDisk(i.sourceDiskId, diskId));
    if (saved) {
      actions.push({ kind: 'already-saved', vm, image: saved });
      continue;
    }
    const pending = store.incomplete.find((b) => !usedIncomplete.has(b) && b.copyStatus === 'pending' && sameDisk(b.image?.sourceDiskId, diskId));
    if (pending?.image) {
      usedIncomplete.add(pending);
      actions.push({ kind: 'resume', vm, image: pending.image, diskId, blobName: pending.blobName });
      continue;
    }
    const generation = osDisks.get(diskId.toLowerCase()) ?? { hyperVGeneration: 'V1', securityType: 'Standard' };
    // Refused before anything is granted or copied: the VHD route cannot carry the image.
    const refusal = vhdRouteRefusal(generation);
    if (refusal) {
      actions.push(
        skipVm(
          vm,
          'error',
          refusal.code,
          `VM '${vm.name}' (ImagePath '${vm.imagePath}') is not saved as a VHD: ${refusal.reason}.`,
          VHD_ROUTE_FIX,
        ),
      );
      continue;
    }
    const notReady = checkReadyToSave(f);
    if (notReady) {
      actions.push(notReady);
      continue;
    }
    const failed = store.incomplete.find((b) => !usedIncomplete.has(b) && b.copyStatus !== 'pending' && sameDisk(b.image?.sourceDiskId, diskId));
    if (failed) usedIncomplete.add(failed);
    toName.push({ facts: f, diskId, osType: f.osType!, generation, replaces: failed });
  }

  // Every failed copy is deleted before any copy starts, including those a VM redoes: a redone VM may
  // get another name, and its old one may go to another VM.
  const discard = store.incomplete.filter((b) => b.copyStatus !== 'pending');
  const foreignPending = store.incomplete.filter((b) => b.copyStatus === 'pending' && !usedIncomplete.has(b));

  for (const { facts: f, diskId, osType, generation, replaces } of toName) {
    const vm = f.vm;
    let named;
    try {
      named = imageNameFor(vm.imagePath!, now, taken);
    } catch (error) {
      actions.push(skipFromError(vm, error));
      continue;
    }
    taken.add(named.imageName.toLowerCase());
    const image: FactoryImage = {
      imageName: named.imageName,
      imagePath: normalizeImagePath(vm.imagePath!),
      description: f.notes,
      osType,
      generalized: true,
      sourceVmId: vm.id,
      sourceDiskId: diskId,
      createdUtc,
      sizeBytes: 0,
      hyperVGeneration: generation.hyperVGeneration,
      securityType: generation.securityType,
      ...(vm.templateHash ? { templateHash: vm.templateHash } : {}),
      ...(vm.baseImage ? { baseImage: vm.baseImage } : {}),
    };
    actions.push({ kind: 'save', vm, image, diskId, ...(named.note ? { nameNote: named.note } : {}), ...(replaces ? { replaces } : {}) });
  }

  actions.sort((a, b) => compareText(a.vm.name, b.vm.name));
  return { createdUtc, actions, discard, foreignPending };
}

/**
 * The first checks of a VM on either route: not a factory VM (no ImagePath tag), not provisioned, an
 * ImagePath that cannot name an image, no managed OS disk. Otherwise its OS disk id.
 */
export function checkTaggedVm(f: VmFacts): NotSavedAction | { diskId: string } {
  const { vm } = f;
  if (vm.imagePath === undefined) {
    return { kind: 'ignore', vm, reason: `VM '${vm.name}' has no ${Tags.ImagePath} tag; it is not a factory VM and is left alone.` };
  }
  if (f.provisioningState?.toLowerCase() !== 'succeeded') return skipVm(vm, 'warning', ErrorCodes.VmNotProvisioned, provisioningMessage(f), provisioningFix(f));
  try {
    imageBaseName(vm.imagePath);
  } catch (error) {
    return skipFromError(vm, error);
  }
  const diskId = f.osDiskId;
  if (!diskId || !MANAGED_DISK_ID.test(diskId)) {
    return skipVm(
      vm,
      'error',
      ErrorCodes.VmHasNoOsDisk,
      diskId
        ? `VM '${vm.name}' (ImagePath '${vm.imagePath}') has its OS disk at '${diskId}', which is not a managed disk; only managed disks can be saved.`
        : `VM '${vm.name}' (ImagePath '${vm.imagePath}') reports no OS disk, so there is nothing to save.`,
      'Create the factory VMs with managed disks (the default for DevTest Labs VMs), then run MakeGoldenImageVMs and SnapImagesFromVMs again.',
    );
  }
  return { diskId };
}

/** Whether a tagged VM not saved yet can be saved now: deallocated (generalized), its OS type known. */
export function checkReadyToSave(f: VmFacts): NotSavedAction | undefined {
  const { vm } = f;
  if (f.powerState !== 'deallocated') {
    return skipVm(
      vm,
      'warning',
      ErrorCodes.VmNotDeallocated,
      `VM '${vm.name}' (ImagePath '${vm.imagePath}') is ${f.powerState ? `'${f.powerState}'` : 'in an unknown power state'}, not deallocated, so it is not saved: it has not finished sysprep (Windows) or deprovisioning (Linux) yet.`,
      'Let the VM generalize and shut down (sysprep /generalize /shutdown, or waagent -deprovision and a stop), deallocate it, then run SnapImagesFromVMs again.',
    );
  }
  if (!f.osType) {
    return skipVm(vm, 'error', ErrorCodes.SnapFailed, `VM '${vm.name}' (ImagePath '${vm.imagePath}') does not say whether it runs Windows or Linux.`, 'Check the VM in the lab; recreate it from its template if its OS type is missing.');
  }
  return undefined;
}

/** The plan as lines to print before anything changes. */
export function describeSnapPlan(plan: SnapPlan): string[] {
  const count = kindCounter(plan.actions);
  return [
    `Plan: save ${count('save')} VM(s), resume ${count('resume')} copy(ies), ${count('already-saved')} already saved, ${count('skip')} skipped, ${count('ignore')} not tagged.`,
    ...describeVmActions<Exclude<SnapAction, NotSavedAction>>(plan.actions, (action, vm) => {
      switch (action.kind) {
        case 'save':
          return [
            planLine(
              'save',
              `${vm} (ImagePath '${action.image.imagePath}', ${action.image.osType}, Generation ${action.image.hyperVGeneration === 'V2' ? 2 : 1}) as image '${action.image.imageName}'` +
                (action.replaces ? `, replacing the ${action.replaces.copyStatus} copy '${action.replaces.blobName}'` : '') +
                (action.nameNote ? ` (${action.nameNote})` : ''),
            ),
          ];
        case 'resume':
          return [resumeLine(vm, `the copy into '${action.blobName}'`)];
        case 'already-saved':
          return [planLine('done', `${vm}: its OS disk is already saved as image '${action.image.imageName}'`)];
      }
    }),
    ...plan.discard.map((blob) => planLine('delete', `'${blob.blobName}': a ${blob.copyStatus} copy an earlier run left behind`)),
    ...plan.foreignPending.map((blob) => planLine('leave', `'${blob.blobName}': a copy in progress that no VM of this lab accounts for`)),
  ];
}

/** A tagged VM the plan does not save, and why. */
export function skipVm(vm: SnapVm, severity: Issue['severity'], code: string, message: string, fix: string): NotSavedAction {
  return { kind: 'skip', vm, issue: { severity, code, message, fix } };
}

/** A VM skipped for a FactoryError (an ImagePath that cannot name an image); any other error is thrown. */
export function skipFromError(vm: SnapVm, error: unknown): NotSavedAction {
  if (!(error instanceof FactoryError)) throw error;
  return skipVm(vm, 'error', error.code, `VM '${vm.name}': ${error.message}`, error.fix ?? '');
}

function provisioningMessage(f: VmFacts): string {
  const state = f.provisioningState ?? 'unknown';
  const what = state.toLowerCase() === 'failed' ? 'failed to provision' : `is not provisioned yet (provisioning state '${state}')`;
  return `VM '${f.vm.name}' (ImagePath '${f.vm.imagePath}') ${what}, so it is not saved.`;
}

function provisioningFix(f: VmFacts): string {
  return f.provisioningState?.toLowerCase() === 'failed'
    ? 'Look at the VM in the lab for why it failed, delete it and create it again with MakeGoldenImageVMs.'
    : 'Wait for the VM to finish provisioning and run SnapImagesFromVMs again.';
}

function compareText(a: string, b: string): number {
  return a.localeCompare(b, 'en', { sensitivity: 'base' });
}
