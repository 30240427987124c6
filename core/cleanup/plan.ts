import { ErrorCodes } from '../errors';
import { getTag, Tags } from '../factoryImages';
import type { Issue } from '../report';

/**
 * What CleanUpFactory does with each VM of the factory lab: a pure function of the lab's VMs and the
 * image store's complete images, so it is printed before anything changes and tested without Azure.
 *
 * A VM tagged FactoryIgnore is never touched. A VM whose provisioning failed is deleted and reported
 * so the lab owner looks. A VM tagged ImagePath is deleted once its image is saved: on the VHD route the
 * store holds the image saved from its OS disk, on the gallery route the gallery holds a finished
 * version made from it; before that, deleting it would lose the only copy of its work. A settled VM
 * with neither tag is reported and kept.
 */
export interface CleanupVm {
  name: string;
  id?: string;
  tags?: Record<string, string>;
  provisioningState?: string;
  /** The managed OS disk, as SnapImagesFromVMs records it in `sourceDiskId`. */
  osDiskId?: string;
  createdDate?: Date | string;
}

/** What the store says about where its images came from (StoredImage satisfies this). */
export interface SavedImage {
  imageName: string;
  /** Its blob in the store, when read from there. */
  blobName?: string;
  sourceVmId: string;
  sourceDiskId: string;
  createdUtc: string;
}

export interface CleanupPlanInput {
  /** e.g. "lab 'Factory' (subscription ...)". */
  labLabel: string;
  vms: readonly CleanupVm[];
  /** Complete images of the factory store (or finished versions of the gallery); undefined when it could not be read. */
  savedImages?: readonly SavedImage[];
  /** The gallery route's gallery; absent on the VHD route, where images are saved in the factory store. */
  galleryName?: string;
}

/** How a route speaks of where a VM's image is saved: the factory store's VHDs, or the gallery's versions. */
export interface SavedInWords {
  /** ` (gallery route, gallery 'X')` after the lab in headings; empty on the VHD route, whose text is as it always was. */
  route: string;
  saved(imageName: string): string;
  savedReason: string;
  unreadable: string;
  notSaved: string;
  notSavedMessage(where: string): string;
  notSavedFix(vmName: string): string;
}

export function savedInWords(galleryName: string | undefined): SavedInWords {
  if (galleryName === undefined) {
    return {
      route: '',
      saved: (imageName) => `saved as image ${imageName}`,
      savedReason: 'saved as an image',
      unreadable: 'the image store could not be read to check that its image was saved',
      notSaved: 'its image is not in the factory store',
      notSavedMessage: (where) => `${where} has no image in the factory store yet, so it was not deleted.`,
      notSavedFix: (vm) => `Run SnapImagesFromVMs (after the VM has generalized and is deallocated) before CleanUpFactory, or delete '${vm}' yourself if its image is not wanted.`,
    };
  }
  const gallery = `gallery '${galleryName}'`;
  return {
    route: ` (gallery route, ${gallery})`,
    saved: (version) => `published as version ${version} of ${gallery}`,
    savedReason: 'published to the gallery',
    unreadable: `${gallery} could not be read to check that a version was made from its disks`,
    notSaved: `${gallery} holds no finished version made from its disks`,
    notSavedMessage: (where) => `${where} has no finished image version made from its disks in ${gallery} yet, so it was not deleted.`,
    notSavedFix: (vm) =>
      `Run SnapImagesFromVMs with galleryName '${galleryName}' (after the VM has generalized and is deallocated) before CleanUpFactory, or delete '${vm}' yourself if its image is not wanted.`,
  };
}

export type DeleteVmReason = 'snapped' | 'provisioning-failed' | 'being-deleted';
export type KeepVmReason = 'ignored' | 'in-progress' | 'not-snapped' | 'store-unreadable' | 'not-tagged' | 'unsettled';

export type VmDecision =
  | { action: 'delete'; vm: CleanupVm; reason: DeleteVmReason; detail: string; issue?: Issue; image?: SavedImage }
  | { action: 'keep'; vm: CleanupVm; reason: KeepVmReason; detail: string; issue?: Issue };

export interface CleanupPlan {
  labLabel: string;
  words: SavedInWords;
  /** One per VM, in VM name order. */
  decisions: VmDecision[];
  deletions: (VmDecision & { action: 'delete' })[];
}

export function planCleanup(input: CleanupPlanInput): CleanupPlan {
  const decisions = [...input.vms]
    .sort((a, b) => compareNames(a.name, b.name))
    .map((vm) => decide(vm, input));
  return {
    labLabel: input.labLabel,
    words: savedInWords(input.galleryName),
    decisions,
    deletions: decisions.filter((d): d is VmDecision & { action: 'delete' } => d.action === 'delete'),
  };
}

function decide(vm: CleanupVm, input: CleanupPlanInput): VmDecision {
  const words = savedInWords(input.galleryName);
  if (getTag(vm.tags, Tags.FactoryIgnore) !== undefined) {
    return { action: 'keep', vm, reason: 'ignored', detail: `tagged ${Tags.FactoryIgnore}` };
  }
  const imagePath = getTag(vm.tags, Tags.ImagePath);
  const where = `VM '${vm.name}'${imagePath ? ` (ImagePath '${imagePath}')` : ''} in ${input.labLabel}`;
  const state = vm.provisioningState?.toLowerCase();
  if (state === 'failed') {
    return {
      action: 'delete',
      vm,
      reason: 'provisioning-failed',
      detail: 'provisioning failed',
      issue: {
        severity: 'error',
        code: ErrorCodes.VmProvisioningFailed,
        message: `${where} failed provisioning; CleanUpFactory deletes it so the next factory run starts clean.`,
        fix: `Look at the lab's activity log for why '${vm.name}' failed (a template, an artifact or a quota), fix it, and create the VM again.`,
      },
    };
  }
  if (state === 'deleting') {
    // A deletion already under way, from a run stopped half-way or by hand: wait for it to finish.
    return { action: 'delete', vm, reason: 'being-deleted', detail: 'already being deleted; waiting for it to go' };
  }
  if (state === 'creating') {
    return { action: 'keep', vm, reason: 'in-progress', detail: 'still being created' };
  }
  if (state !== 'succeeded') {
    return { action: 'keep', vm, reason: 'unsettled', detail: `provisioning state ${vm.provisioningState ?? 'unknown'}: left alone until it settles` };
  }
  if (imagePath === undefined) {
    return {
      action: 'keep',
      vm,
      reason: 'not-tagged',
      detail: `has neither the ${Tags.ImagePath} nor the ${Tags.FactoryIgnore} tag`,
      issue: {
        severity: 'error',
        code: ErrorCodes.VmNotTagged,
        message: `${where} has neither the ${Tags.ImagePath} nor the ${Tags.FactoryIgnore} tag, so the factory does not know what it is; it was not deleted.`,
        fix: `Add the ${Tags.FactoryIgnore} tag if it belongs here; otherwise delete it.`,
      },
    };
  }
  if (!input.savedImages) {
    return { action: 'keep', vm, reason: 'store-unreadable', detail: words.unreadable };
  }
  const saved = savedImageOf(vm, input.savedImages);
  if (saved) {
    return { action: 'delete', vm, reason: 'snapped', detail: words.saved(saved.imageName), image: saved };
  }
  return {
    action: 'keep',
    vm,
    reason: 'not-snapped',
    detail: words.notSaved,
    issue: {
      severity: 'warning',
      code: ErrorCodes.VmNotSnapped,
      message: words.notSavedMessage(where),
      fix: words.notSavedFix(vm.name),
    },
  };
}

/**
 * The store image saved from this VM: by OS disk, which a recreated VM of the same name does not
 * share; failing that (the lab did not report the disk), by VM id with an image newer than the VM.
 */
function savedImageOf(vm: CleanupVm, images: readonly SavedImage[]): SavedImage | undefined {
  const same = (a: string | undefined, b: string | undefined) => !!a && !!b && a.toLowerCase() === b.toLowerCase();
  if (vm.osDiskId) return images.find((image) => same(image.sourceDiskId, vm.osDiskId));
  const vmCreated = vm.createdDate === undefined ? Number.NaN : new Date(vm.createdDate).getTime();
  if (!Number.isFinite(vmCreated)) return undefined;
  return images.find((image) => same(image.sourceVmId, vm.id) && Date.parse(image.createdUtc) >= vmCreated);
}

function compareNames(a: string, b: string): number {
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  return la < lb ? -1 : la > lb ? 1 : a < b ? -1 : a > b ? 1 : 0;
}

const DELETE_TEXT: Record<Exclude<DeleteVmReason, 'snapped'>, string> = {
  'provisioning-failed': 'provisioning failed',
  'being-deleted': 'already being deleted',
};

export function deleteVmReasonText(reason: DeleteVmReason, words: SavedInWords): string {
  return reason === 'snapped' ? words.savedReason : DELETE_TEXT[reason];
}

/** The plan as printed before acting: every VM, what happens to it and why. */
export function formatCleanupPlan(plan: CleanupPlan): string[] {
  const kept = plan.decisions.length - plan.deletions.length;
  const lines = [`Clean-up plan for ${plan.labLabel}${plan.words.route}: ${plan.deletions.length} VM(s) to delete, ${kept} to keep.`];
  for (const decision of plan.decisions) {
    lines.push(`  ${decision.action === 'delete' ? 'delete' : 'keep  '} ${decision.vm.name}: ${decision.detail}`);
  }
  return lines;
}
