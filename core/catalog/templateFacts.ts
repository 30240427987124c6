import { promises as fs } from 'node:fs';
import { isExpression, isObject, LAB_VM_RESOURCE_TYPE, type GoldenTemplate } from '../config/goldenImages';
import { imageGeneration } from '../marketplace';
import { parseSecurityType } from '../vhdRoute';
import type { HyperVGeneration, SecurityType } from './route';

/**
 * What the catalog shows of a template beyond what the configuration check keeps: the artifacts the
 * lab VM applies, and the generation and security type its marketplace image implies (shown when the
 * image itself does not say). The template has already passed the configuration check, so a file that
 * no longer reads simply yields no artifacts.
 */
export interface TemplateFacts {
  artifacts: string[];
  generation: HyperVGeneration;
  securityType: SecurityType;
}

export async function readTemplateFacts(template: GoldenTemplate): Promise<TemplateFacts> {
  const properties = await labVmProperties(template.file);
  const securityType = parseSecurityType(typeof properties?.securityType === 'string' && !isExpression(properties.securityType) ? properties.securityType : undefined);
  return {
    artifacts: artifactNames(properties?.artifacts),
    generation: imageGeneration(template.galleryImageReference),
    securityType,
  };
}

/**
 * The artifact names of a lab VM's `artifacts`: the last segment of a literal artifactId
 * (`.../artifactsources/public repo/artifacts/windows-chrome`), or the last quoted literal of a
 * `resourceId(...)` expression, which is the artifact's name.
 */
export function artifactNames(artifacts: unknown): string[] {
  if (!Array.isArray(artifacts)) return [];
  const names: string[] = [];
  for (const artifact of artifacts) {
    const id = isObject(artifact) ? artifact.artifactId : undefined;
    if (typeof id !== 'string' || id === '') continue;
    if (isExpression(id)) {
      const literals = [...id.matchAll(/'([^']*)'/g)].map((match) => match[1]).filter((text) => text !== '');
      names.push(literals.at(-1) ?? id);
    } else {
      names.push(id.split('/').filter((segment) => segment !== '').at(-1) ?? id);
    }
  }
  return names;
}

async function labVmProperties(file: string): Promise<Record<string, unknown> | undefined> {
  let document: unknown;
  try {
    document = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(document) || !Array.isArray(document.resources)) return undefined;
  const vm = document.resources.find(
    (resource): resource is Record<string, unknown> =>
      isObject(resource) && typeof resource.type === 'string' && resource.type.toLowerCase() === LAB_VM_RESOURCE_TYPE.toLowerCase(),
  );
  return vm && isObject(vm.properties) ? vm.properties : undefined;
}
