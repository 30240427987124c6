import type { BlobService } from '../storage/blobService';
import type { FaultPlan } from '../faults';
import type { Principal } from '../identity/state';
import type { AzureState } from '../state';
import type { Operations } from './operations';

/** What every Resource Manager handler works with. */
export interface ArmContext {
  readonly state: AzureState;
  readonly blob: BlobService;
  readonly operations: Operations;
  readonly faults: FaultPlan;
  /** The server's base URL (https://127.0.0.1:port), for links in answers. */
  baseUrl(): string;
}

export interface ArmRequest {
  readonly context: ArmContext;
  readonly method: string;
  readonly url: URL;
  readonly params: Record<string, string>;
  readonly body: unknown;
  readonly operationId: string;
  readonly apiVersion: string;
  readonly action: string;
  readonly principal: Principal;
}
