import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { LAB_VM_RESOURCE_TYPE, REQUIRED_PARAMETERS } from '../config/goldenImages';
import type { OsType } from '../factoryImages';

/**
 * What MakeGoldenImageVMs adds to a golden-image template before deploying it, and the parameters it
 * fills. The template on disk is never changed: the factory's tags and the generalizing artifact are
 * put into the copy that is deployed.
 */

/** Parameters the stage gives every template that declares them. `labName` and `newVMName` are required. */
export const FILLED_PARAMETERS = { labName: 'labName', vmName: 'newVMName', size: 'size', userName: 'userName', password: 'password', sshKey: 'sshKey' } as const;
export { REQUIRED_PARAMETERS };

/** The public DevTest Labs artifact repository (every lab has it as artifact source `public repo`) and its generalizing artifacts. */
export const PUBLIC_ARTIFACT_SOURCE = 'public repo';
export const GENERALIZE_ARTIFACT: Record<OsType, string> = { Windows: 'windows-sysprep', Linux: 'linux-deprovision' };

export interface LoadedTemplate {
  json: Record<string, unknown>;
  /** Hash of the template's content (its JSON, so line endings and indentation do not count). */
  hash: string;
  /** Declared parameter names, as written. */
  parameters: string[];
  /** Whether the template itself already applies a generalizing artifact. */
  generalizes: boolean;
}

export async function loadTemplate(file: string): Promise<LoadedTemplate> {
  const json = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  return describeTemplate(json);
}

export function describeTemplate(json: Record<string, unknown>): LoadedTemplate {
  const hash = createHash('sha256').update(JSON.stringify(json)).digest('hex').slice(0, 16);
  const parameters = Object.keys(asObject(json.parameters));
  const vm = labVmResource(json);
  const artifacts = Array.isArray(asObject(vm?.properties).artifacts) ? (asObject(vm?.properties).artifacts as unknown[]) : [];
  const listed = JSON.stringify(artifacts).toLowerCase();
  const generalizes = Object.values(GENERALIZE_ARTIFACT).some((name) => listed.includes(name));
  return { json, hash, parameters, generalizes };
}

export function hasParameter(template: LoadedTemplate, name: string): string | undefined {
  return template.parameters.find((p) => p.toLowerCase() === name.toLowerCase());
}

/** The template to deploy: the lab VM tagged, and (with `generalize`) the OS's generalizing artifact last. */
export function deployableTemplate(template: LoadedTemplate, options: { tags: Record<string, string>; generalize?: OsType }): Record<string, unknown> {
  const copy = structuredClone(template.json);
  const vm = labVmResource(copy);
  if (!vm) throw new Error('the template has no lab VM resource');
  vm.tags = { ...asObject(vm.tags), ...options.tags };
  if (options.generalize) {
    const properties = asObject(vm.properties);
    const labName = hasParameter(template, FILLED_PARAMETERS.labName) ?? FILLED_PARAMETERS.labName;
    const artifacts = Array.isArray(properties.artifacts) ? [...properties.artifacts] : [];
    // Last, as its instructions say: it shuts the VM down for good.
    artifacts.push({
      artifactId: `[resourceId('Microsoft.DevTestLab/labs/artifactSources/artifacts', parameters('${labName}'), '${PUBLIC_ARTIFACT_SOURCE}', '${GENERALIZE_ARTIFACT[options.generalize]}')]`,
    });
    vm.properties = { ...properties, artifacts };
  }
  return copy;
}

function labVmResource(json: Record<string, unknown>): Record<string, unknown> | undefined {
  const resources = Array.isArray(json.resources) ? json.resources : [];
  return resources.find((r): r is Record<string, unknown> => typeof asObject(r).type === 'string' && (asObject(r).type as string).toLowerCase() === LAB_VM_RESOURCE_TYPE.toLowerCase());
}

function asObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
