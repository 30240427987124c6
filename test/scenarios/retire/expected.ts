import * as path from 'node:path';

/**
 * The RetireImages scenario: scenario.json (the local Azure's starting state) and Configuration/ (labs.json
 * and GoldenImages). Images of five ImagePaths across the factory store, the factory lab and three labs in
 * two subscriptions, saved on several dates:
 *
 * | ImagePath | Template | Selected by |
 * | --- | --- | --- |
 * | Windows/Datacenter.json | present | Dev (folder Windows) |
 * | Windows/SQL.json | present | Dev (folder), Test (`Windows\SQL.json`) |
 * | Linux/Ubuntu.json | present | Test, Locked (folder Linux) |
 * | Windows/Legacy.json | gone | (Dev's folder entry Windows covers its path) |
 * | Retired/Old.json | gone | nobody |
 *
 * Three SQL images share one creation second (`...-Nov-15-2026`, `A`, `B`); Dev's Datacenter images carry
 * no ImageFactoryCreated tag (their creationDate orders them) and one has its tag names in odd casing.
 * Foreign images: hand-made, tagged by hand, made by another factory, and one named like a factory image
 * without an ImagePath tag. Two were made by the PowerShell image factory (tagged ImagePath alone, with
 * its naming): an older Datacenter image in Dev and one of the removed Retired/Old.json in Factory.
 * Locked denies all access.
 * The expected survivors below are written out by hand from the rules, not computed by the plan.
 */
export const SCENARIO_FILE = path.resolve(__dirname, '../../../../test/scenarios/retire/scenario.json');
export const CONFIGURATION = path.resolve(__dirname, '../../../../test/scenarios/retire/Configuration');
export const FACTORY = { subscriptionId: '0f3b6c1e-8a2d-4e57-9b10-3c4d5e6f7a81', resourceGroup: 'factory-rg', name: 'Factory' };
export const IMAGES_TO_SAVE = 2;

/** What each place holds after retirement with ImagesToSave = 2. */
export const expectedSurvivors = {
  store: [
    'Linux_Ubuntu-Nov-01-2026.vhd',
    'Linux_Ubuntu-Nov-08-2026.vhd',
    'Windows_Datacenter-Nov-08-2026.vhd',
    'Windows_Datacenter-Nov-15-2026.vhd',
    'Windows_SQL-Nov-15-2026.vhd',
    'Windows_SQL-Nov-15-2026A.vhd',
    'notes-from-the-team.vhd',
  ],
  Factory: ['TeamImage-Handmade', 'Windows_Datacenter-Nov-01-2026', 'Windows_Datacenter-Nov-15-2026'],
  Dev: [
    'OtherFactory-Ubuntu',
    'TaggedByHand',
    'TeamImage-Handmade',
    'Windows_Datacenter-Nov-08-2026',
    'Windows_Datacenter-Nov-15-2026',
    'Windows_Datacenter-Sep-3-2026',
    'Windows_SQL-Nov-15-2026A',
  ],
  Test: ['Linux_Ubuntu-Nov-01-2026', 'Linux_Ubuntu-Nov-08-2026', 'OtherFactory-Ubuntu', 'Windows_SQL-Nov-15-2026A', 'Windows_SQL-Nov-15-2026B'],
  Locked: ['Linux_Ubuntu-Nov-01-2026', 'Windows_Datacenter-Nov-01-2026'],
};

/**
 * Deleted: store 5 (Datacenter Nov-01, SQL Nov-01, both Legacy, Old), Factory 2 (Old, the PowerShell
 * factory's Old), Dev 6 (Datacenter Nov-01 and the PowerShell factory's Oct-4, both Legacy, both Ubuntu),
 * Test 3 (SQL Nov-15 plain, Datacenter, Legacy). Legacy's template is gone: its images go everywhere,
 * though Dev's folder entry Windows still covers its path.
 */
export const EXPECTED_DELETIONS = 16;

/** The PowerShell image factory's images, by lab: kept when RetireImages is told to leave them. */
export const POWERSHELL_IMAGES = { Factory: ['Retired_Old-Sep-6-2026'], Dev: ['Windows_Datacenter-Oct-4-2026'] };
