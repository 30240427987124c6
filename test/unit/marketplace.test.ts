import * as assert from 'node:assert/strict';
import { defaultMarketplaceImage, imageGeneration, securityTypeProblem } from '../../local-azure/compute/marketplace';

describe('marketplace images: generation and security type', () => {
  const gen = (offer: string, sku: string) => imageGeneration({ offer, sku });

  it('makes every -gen2 / -g2 SKU Generation 2, and its plain twin Generation 1', () => {
    assert.equal(gen('0001-com-ubuntu-server-jammy', '22_04-lts-gen2'), 'V2');
    assert.equal(gen('0001-com-ubuntu-server-jammy', '22_04-lts'), 'V1');
    assert.equal(gen('WindowsServer', '2022-datacenter-g2'), 'V2');
    assert.equal(gen('WindowsServer', '2022-Datacenter'), 'V1');
    assert.equal(gen('sql2022-ws2022', 'sqldev-gen2'), 'V2');
    assert.equal(gen('sql2022-ws2022', 'sqldev'), 'V1');
    assert.equal(gen('Windows-10', 'win10-22h2-pro-g2'), 'V2');
    assert.equal(gen('Windows-10', '19h1-ent-gensecond'), 'V2');
    assert.equal(gen('opensuse-leap-15-5', 'gen2'), 'V2');
  });

  it('makes Windows Server Azure Edition and Windows 11 Generation 2, whatever the SKU suffix', () => {
    assert.equal(gen('WindowsServer', '2022-datacenter-azure-edition'), 'V2');
    assert.equal(gen('WindowsServer', '2025-datacenter-azure-edition-core-smalldisk'), 'V2');
    assert.equal(gen('windows-11', 'win11-23h2-ent'), 'V2');
    assert.equal(gen('office-365', 'win11-23h2-avd-m365'), 'V2');
  });

  it('makes Ubuntu 24.04 Generation 2 but for its -gen1 SKU', () => {
    assert.equal(gen('ubuntu-24_04-lts', 'server'), 'V2');
    assert.equal(gen('ubuntu-24_04-lts', 'server-gen1'), 'V1');
  });

  it('does not read gen2 inside another word', () => {
    assert.equal(gen('someoffer', 'regen2x'), 'V1');
  });

  it('defaults to Generation 1 images, which the VHD route carries', () => {
    assert.equal(imageGeneration(defaultMarketplaceImage('Windows')), 'V1');
    assert.equal(imageGeneration(defaultMarketplaceImage('Linux')), 'V1');
  });

  it('allows Trusted Launch on Generation 2 only', () => {
    assert.equal(securityTypeProblem('V2', 'TrustedLaunch'), undefined);
    assert.match(securityTypeProblem('V1', 'TrustedLaunch') ?? '', /Generation 2/);
    assert.equal(securityTypeProblem('V1', 'Standard'), undefined);
  });
});
