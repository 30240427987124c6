import { X509Certificate } from 'node:crypto';
import { GUID, type Checker } from '../scenarioChecker';
import { MANAGED_IDENTITY_TYPES } from './state';

/** The identity part of a scenario: `tenantId`, `principals` and `managedIdentities`. */
export function checkIdentityScenario(c: Checker, root: Record<string, unknown>): void {
  c.string(root.tenantId, '$.tenantId', { pattern: GUID, hint: 'must be a GUID' });

  const principals = c.array(root.principals, '$.principals');
  if (principals && principals.length === 0) c.problem('$.principals', 'must name at least one principal (or be left out for the default)');
  // Client ids are unique across principals and managed identities.
  const clientIds = new Set<string>();
  principals?.forEach((item, i) => {
    const path = `$.principals[${i}]`;
    const p = c.object(item, path, ['clientId', 'clientSecret', 'certificatePem', 'displayName', 'objectId', 'federatedCredentials']);
    if (!p) return;
    const clientId = c.string(p.clientId, `${path}.clientId`, { required: true, pattern: /^\S+$/, hint: 'must not contain spaces' });
    if (clientId) {
      if (clientIds.has(clientId.toLowerCase())) c.problem(`${path}.clientId`, `${clientId} is listed twice`);
      clientIds.add(clientId.toLowerCase());
    }
    c.string(p.clientSecret, `${path}.clientSecret`);
    c.string(p.displayName, `${path}.displayName`);
    c.string(p.objectId, `${path}.objectId`, { pattern: GUID, hint: 'must be a GUID' });
    const pem = c.string(p.certificatePem, `${path}.certificatePem`);
    if (pem) {
      try {
        new X509Certificate(pem);
      } catch (error) {
        c.problem(`${path}.certificatePem`, `is not a PEM certificate (${(error as Error).message})`);
      }
    }
    const federated = c.array(p.federatedCredentials, `${path}.federatedCredentials`);
    federated?.forEach((fc, j) => {
      const fpath = `${path}.federatedCredentials[${j}]`;
      const f = c.object(fc, fpath, ['issuer', 'subject', 'audiences']);
      if (!f) return;
      c.string(f.issuer, `${fpath}.issuer`, { pattern: /^https:\/\//, hint: 'must be an https URL' });
      c.string(f.subject, `${fpath}.subject`, { required: true });
      c.array(f.audiences, `${fpath}.audiences`)?.forEach((a, k) => c.string(a, `${fpath}.audiences[${k}]`, { required: true }));
    });
  });

  let systemAssigned = 0;
  c.array(root.managedIdentities, '$.managedIdentities')?.forEach((item, i) => {
    const path = `$.managedIdentities[${i}]`;
    const m = c.object(item, path, ['type', 'clientId', 'objectId', 'displayName']);
    if (!m) return;
    const type = c.string(m.type, `${path}.type`, { required: true, oneOf: MANAGED_IDENTITY_TYPES });
    if (type === 'SystemAssigned' && ++systemAssigned === 2) c.problem(`${path}.type`, 'a machine has at most one system-assigned identity');
    const clientId = c.string(m.clientId, `${path}.clientId`, { required: type === 'UserAssigned', pattern: GUID, hint: 'must be a GUID' });
    if (clientId) {
      if (clientIds.has(clientId.toLowerCase())) c.problem(`${path}.clientId`, `${clientId} is listed twice`);
      clientIds.add(clientId.toLowerCase());
    }
    c.string(m.objectId, `${path}.objectId`, { pattern: GUID, hint: 'must be a GUID' });
    c.string(m.displayName, `${path}.displayName`);
  });
}
