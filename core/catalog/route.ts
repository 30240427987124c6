import type { OsType } from '../factoryImages';
import type { Configuration } from '../config/labsConfig';
import type { HyperVGeneration, SecurityType as ComputeSecurityType } from '../vhdRoute';

export type { HyperVGeneration };
import type { ReadOutcome } from '../retire/plan';

/**
 * What the catalog needs from a route (the VHD route: the factory's image store and the labs' custom
 * images; the gallery route: gallery image versions and the images enabled in each lab). Each route has
 * its reader; the page model (model.ts) is built from a RouteState alone, so it never asks which route
 * carried an image, and a second route plugs in as a second reader.
 */
export type RouteName = 'vhd' | 'gallery';

/** `Standard`, `TrustedLaunch`, `ConfidentialVM`: as Azure writes it. */
export type SecurityType = ComputeSecurityType;

/** One image (VHD route) or image version (gallery route) at the route's source. */
export interface SourceImage {
  /** Custom image name, or gallery image version name. */
  name: string;
  /** The version as people read it: `Nov-24-2026`, `2026.11.24`. */
  version: string;
  /** Normalized (`/` separators, case kept). */
  imagePath: string;
  /** When the factory saved it (UTC, ISO 8601). */
  createdUtc: string;
  sizeBytes?: number;
  osType?: OsType;
  /** Present when the image's own metadata says; otherwise the template's is shown. */
  generation?: HyperVGeneration;
  securityType?: SecurityType;
  /** The factory VM's notes, as saved with the image. */
  description?: string;
  /** Gallery route: the version's replica in each of its regions. */
  replication?: RegionReplica[];
}

/** A gallery image version's replica in one region, as `$expand=ReplicationStatus` reports it. */
export interface RegionReplica {
  /** Normalized (`westus2`). */
  region: string;
  state: 'completed' | 'replicating' | 'failed';
}

export type HeldImageState = 'ready' | 'creating' | 'failed' | 'deleting';

/** An image of the factory's that a lab holds. */
export interface HeldImage {
  name: string;
  version: string;
  imagePath: string;
  /** When the factory saved it, when known (UTC, ISO 8601). */
  createdUtc?: string;
  state: HeldImageState;
  /** Why the route's retention removes it on its next run, when it does. */
  retiring?: string;
}

export interface LabHoldings {
  /** The lab's index in labs.json's Labs. */
  labIndex: number;
  /** Gallery route: the versions the lab's VMs can be made from (enabled, replicated to its region). */
  read: ReadOutcome<HeldImage[]>;
  /** Gallery route: how the lab reaches the gallery, when the lab was read. */
  gallery?: LabGalleryAccess;
}

/** What decides, on the gallery route, which version a lab's VMs get. */
export interface LabGalleryAccess {
  /** The lab's region, normalized: its VMs get the newest version replicated there. */
  region: string;
  attachment: 'attached' | 'not-attached' | 'other-gallery';
  /** The gallery attached instead, when another one is (a lab holds one gallery). */
  otherGallery?: string;
  /** ImagePath keys (`imagePathKey`) of the factory images enabled in the lab. */
  enabled: ReadonlySet<string>;
}

export interface RouteState {
  route: RouteName;
  /** What people call the source: "image store of lab 'ImageFactory'". */
  sourceLabel: string;
  source: ReadOutcome<SourceImage[]>;
  /** Source images retention removes on its next run, by name, with why. */
  sourceRetiring: Map<string, string>;
  /** One entry per lab of labs.json. */
  labs: LabHoldings[];
}

export interface RouteReadOptions {
  configuration: Configuration;
  /** The retention setting RetireImages runs with, so the page marks what it will remove. */
  imagesToSave: number;
  /** As RetireImages runs: the PowerShell image factory's custom images count as the factory's. */
  includePowerShellImages: boolean;
  maxConcurrentJobs: number;
  signal: AbortSignal;
}

export interface CatalogRouteReader {
  readonly route: RouteName;
  read(options: RouteReadOptions): Promise<RouteState>;
}
