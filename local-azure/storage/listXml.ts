import type { CopyState } from './copies';

const COPY_ELEMENT = /<Copy(?:Id|Status|Source|Progress|CompletionTime|StatusDescription)(?:\s*\/>|>[^<]*<\/Copy(?:Id|Status|Source|Progress|CompletionTime|StatusDescription)>)/g;

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|apos|quot|#(\d+)|#x([0-9a-fA-F]+));/g, (_, name: string, dec?: string, hex?: string) => {
    if (dec) return String.fromCodePoint(Number(dec));
    if (hex) return String.fromCodePoint(parseInt(hex, 16));
    return ({ lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' } as Record<string, string>)[name]!;
  });
}

/** The `<Copy...>` properties of a copy in List Blobs, as Azure writes them. */
export function copyPropertiesXml(state: CopyState): string {
  let xml =
    `<CopyId>${escapeXml(state.copyId)}</CopyId><CopyStatus>${state.status}</CopyStatus>` +
    `<CopySource>${escapeXml(state.source)}</CopySource><CopyProgress>${state.progress}</CopyProgress>`;
  if (state.completedAt) xml += `<CopyCompletionTime>${state.completedAt.toUTCString()}</CopyCompletionTime>`;
  if (state.description) xml += `<CopyStatusDescription>${escapeXml(state.description)}</CopyStatusDescription>`;
  return xml;
}

export interface ListRewrite {
  /** Azurite's origin and the front's, so URLs in the listing name the front. */
  azuriteOrigin: string;
  frontOrigin: string;
  /** Whether the request asked for copy properties (`include=copy`). */
  includeCopy: boolean;
  /** The modelled copy of a blob in this container, if any. */
  copyOf(blobName: string): CopyState | undefined;
}

/**
 * Rewrites an Azurite List Blobs (or List Containers) answer: front URLs instead of Azurite's, copy
 * properties only when asked for (Azurite always writes them), and each modelled copy's state in
 * place of Azurite's instantly finished one.
 */
export function rewriteListXml(xml: string, rewrite: ListRewrite): string {
  const withFrontUrls = xml.split(rewrite.azuriteOrigin).join(rewrite.frontOrigin);
  return withFrontUrls.replace(/<Blob>([\s\S]*?)<\/Blob>/g, (whole, inner: string) => {
    const hasCopy = /<CopyId>/.test(inner);
    if (!rewrite.includeCopy) return hasCopy ? whole.replace(COPY_ELEMENT, '') : whole;
    const name = /<Name>([^<]*)<\/Name>/.exec(inner);
    const state = name ? rewrite.copyOf(unescapeXml(name[1])) : undefined;
    if (!state) return whole;
    return whole.replace(COPY_ELEMENT, '').replace('</Properties>', `${copyPropertiesXml(state)}</Properties>`);
  });
}
