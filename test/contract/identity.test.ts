import * as assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { ClientAssertionCredential, ClientCertificateCredential, ClientSecretCredential } from '@azure/identity';
import { createClientCertificate, type IssuedCertificate } from '../../local-azure/certs';
import type { Scenario } from '../../local-azure/scenario';
import { ARM_SCOPE, sdkClients, startLocalAzure, type LocalAzureProcess, type RawResponse } from '../helpers/localAzure';

/**
 * The local identity authority through @azure/identity (MSAL) credentials pointed at it the way a
 * sovereign cloud is (authorityHost, no instance discovery), and Resource Manager's bearer checks.
 */

const SUB = 'b1c2d3e4-0000-4000-8000-000000000001';
const TENANT = 'c1d2e3f4-0000-4000-8000-0000000000aa';
const SECRET_CLIENT = 'd1e2f3a4-0000-4000-8000-000000000001';
const CERT_CLIENT = 'd1e2f3a4-0000-4000-8000-000000000002';
const STORAGE_SCOPE = 'https://storage.azure.com/.default';

interface Jwt {
  header: Record<string, string>;
  payload: Record<string, any>;
  signingInput: string;
  signature: Buffer;
}

function decode(token: string): Jwt {
  const [header, payload, signature] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString()),
    signingInput: `${header}.${payload}`,
    signature: Buffer.from(signature, 'base64url'),
  };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => assert.fail('expected a rejection'),
    (error: Error) => error,
  );
}

describe('local identity authority', function () {
  this.timeout(60_000);
  let azure: LocalAzureProcess;
  let certificate: IssuedCertificate;
  let otherCertificate: IssuedCertificate;

  const options = () => ({ authorityHost: azure.authorityUrl, disableInstanceDiscovery: true });
  const secretCredential = (secret = 'the-secret', clientId = SECRET_CLIENT) => new ClientSecretCredential(TENANT, clientId, secret, options());
  const tokenRequest = (form: Record<string, string>, tenant = TENANT): Promise<RawResponse> =>
    azure.request('POST', `/${tenant}/oauth2/v2.0/token`, {
      body: new URLSearchParams(form).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  const armGet = (token?: string) =>
    azure.request('GET', `/subscriptions/${SUB}/resourceGroups/RG/providers/Microsoft.DevTestLab/labs/Lab?api-version=2018-09-15`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });

  before(async () => {
    [certificate, otherCertificate] = await Promise.all([createClientCertificate('factory-cert'), createClientCertificate('someone-else')]);
    const scenario: Scenario = {
      tenantId: TENANT,
      principals: [
        { clientId: SECRET_CLIENT, clientSecret: 'the-secret', displayName: 'factory' },
        { clientId: CERT_CLIENT, certificatePem: certificate.certPem, displayName: 'factory-cert' },
      ],
      labs: [{ subscriptionId: SUB, resourceGroup: 'RG', name: 'Lab' }],
      settings: { lroRetryAfterSeconds: 0 },
    };
    azure = await startLocalAzure({ scenario });
  });
  after(async () => {
    await azure?.stop();
  });
  beforeEach(async () => {
    await azure.setFaults([]);
  });

  it('publishes OIDC discovery and signing keys per tenant, and knows no other tenant', async () => {
    const discovery = await azure.request('GET', `/${TENANT}/v2.0/.well-known/openid-configuration`);
    assert.equal(discovery.status, 200);
    const config = discovery.json as Record<string, string>;
    assert.equal(config.issuer, `${azure.authorityUrl}/${TENANT}/v2.0`);
    assert.equal(config.token_endpoint, `${azure.authorityUrl}/${TENANT}/oauth2/v2.0/token`);
    assert.equal(config.authorization_endpoint, `${azure.authorityUrl}/${TENANT}/oauth2/v2.0/authorize`);
    assert.equal(config.jwks_uri, `${azure.authorityUrl}/${TENANT}/discovery/v2.0/keys`);
    const keys = await azure.request('GET', new URL(config.jwks_uri).pathname);
    const jwks = keys.json as { keys: { kty: string; kid: string; n: string; e: string }[] };
    assert.equal(jwks.keys[0].kty, 'RSA');
    assert.ok(jwks.keys[0].kid && jwks.keys[0].n && jwks.keys[0].e);

    const other = await azure.request('GET', '/00000000-0000-4000-8000-000000000000/v2.0/.well-known/openid-configuration');
    assert.equal(other.status, 400);
    assert.match((other.json as { error_description: string }).error_description, /^AADSTS90002: Tenant '00000000-0000-4000-8000-000000000000' not found/);
  });

  it('issues RS256 access tokens for a client secret, with the audience of the scope and the principal', async () => {
    const token = await secretCredential().getToken(ARM_SCOPE);
    assert.ok(token);
    const jwt = decode(token.token);
    assert.equal(jwt.header.alg, 'RS256');
    const jwks = (await azure.request('GET', `/${TENANT}/discovery/v2.0/keys`)).json as { keys: ({ kid: string } & Record<string, string>)[] };
    const key = jwks.keys.find((k) => k.kid === jwt.header.kid);
    assert.ok(key, 'signed with a published key');
    assert.ok(verify('sha256', Buffer.from(jwt.signingInput), createPublicKey({ key, format: 'jwk' }), jwt.signature), 'the signature verifies');
    const state = await azure.state();
    const principal = state.principals.find((p) => p.clientId === SECRET_CLIENT)!;
    assert.equal(jwt.payload.aud, 'https://management.core.windows.net/');
    assert.equal(jwt.payload.iss, `${azure.authorityUrl}/${TENANT}/v2.0`);
    assert.equal(jwt.payload.tid, TENANT);
    assert.equal(jwt.payload.oid, principal.objectId);
    assert.equal(jwt.payload.appid, SECRET_CLIENT);
    assert.equal(jwt.payload.exp - jwt.payload.iat, 3600);
    assert.ok(Math.abs(token.expiresOnTimestamp - jwt.payload.exp * 1000) < 5000);

    const storage = decode((await secretCredential().getToken(STORAGE_SCOPE))!.token);
    assert.equal(storage.payload.aud, 'https://storage.azure.com');
  });

  it("serves the machine's managed identities at an App Service-shaped identity endpoint (2019-08-01)", async () => {
    const env = await azure.connectionEnv({ scheme: 'ManagedServiceIdentity' });
    const endpoint = new URL(env.IDENTITY_ENDPOINT);
    assert.ok(['127.0.0.1', 'localhost'].includes(endpoint.hostname), `on loopback: ${endpoint}`);
    const ask = (query: Record<string, string>, header: string | undefined = env.IDENTITY_HEADER) =>
      azure.request('GET', `${endpoint.href}?${new URLSearchParams(query)}`, { headers: header ? { 'x-identity-header': header } : {} });
    const { managedIdentities } = await azure.state();
    const system = managedIdentities.find((m) => m.type === 'SystemAssigned')!;
    const user = managedIdentities.find((m) => m.type === 'UserAssigned')!;

    const answer = await ask({ 'api-version': '2019-08-01', resource: 'https://management.core.windows.net/' });
    assert.equal(answer.status, 200, answer.text);
    const body = answer.json as { access_token: string; expires_on: string; resource: string; token_type: string; client_id: string };
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'client_id', 'expires_on', 'resource', 'token_type']);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.resource, 'https://management.core.windows.net/');
    assert.equal(body.client_id, system.clientId);
    assert.match(body.expires_on, /^\d+$/, 'seconds since the epoch, as a string');
    const jwt = decode(body.access_token);
    assert.equal(jwt.payload.oid, system.objectId);
    assert.equal(Number(body.expires_on), jwt.payload.exp);
    assert.equal(jwt.payload.iss, `${azure.authorityUrl}/${TENANT}/v2.0`);
    assert.equal((await armGet(body.access_token)).status, 200, 'Resource Manager accepts a managed identity token');

    const userAnswer = await ask({ 'api-version': '2019-08-01', resource: 'https://storage.azure.com', client_id: user.clientId });
    assert.equal(userAnswer.status, 200, userAnswer.text);
    assert.equal(decode((userAnswer.json as { access_token: string }).access_token).payload.oid, user.objectId);
    assert.equal(decode((userAnswer.json as { access_token: string }).access_token).payload.aud, 'https://storage.azure.com');

    const notAssigned = await ask({ 'api-version': '2019-08-01', resource: 'https://management.core.windows.net/', client_id: SECRET_CLIENT });
    assert.equal(notAssigned.status, 400);
    const refusal = notAssigned.json as { statusCode: number; message: string; correlationId: string };
    assert.equal(refusal.statusCode, 400);
    assert.equal(refusal.message, 'No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId.');
    assert.match(refusal.correlationId, /^[0-9a-f-]{36}$/);

    assert.equal((await ask({ 'api-version': '2019-08-01', resource: 'https://management.core.windows.net/' }, 'not-the-header')).status, 401);
    assert.equal((await ask({ 'api-version': '2019-08-01', resource: 'https://management.core.windows.net/' }, '')).status, 401);
    assert.equal((await ask({ 'api-version': '2017-09-01', resource: 'https://management.core.windows.net/' })).status, 400);
    assert.match(((await ask({ 'api-version': '2019-08-01', resource: 'https://vault.azure.net' })).json as { message: string }).message, /^AADSTS500011/);
    // A managed identity has no credential of its own to sign in with at the token endpoint.
    const direct = await tokenRequest({ grant_type: 'client_credentials', client_id: system.clientId, client_secret: 'x', scope: ARM_SCOPE });
    assert.match((direct.json as { error_description: string }).error_description, /^AADSTS700016/);
  });

  it('refuses a wrong secret with 401 AADSTS7000215, an unknown client with AADSTS700016', async () => {
    const error = await rejection(secretCredential('wrong').getToken(ARM_SCOPE));
    assert.match(error.message, /AADSTS7000215: Invalid client secret provided/);
    const raw = await tokenRequest({ grant_type: 'client_credentials', client_id: SECRET_CLIENT, client_secret: 'wrong', scope: ARM_SCOPE });
    assert.equal(raw.status, 401);
    const body = raw.json as { error: string; error_description: string; error_codes: number[] };
    assert.equal(body.error, 'invalid_client');
    assert.deepEqual(body.error_codes, [7000215]);

    const unknown = await tokenRequest({ grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'x', scope: ARM_SCOPE });
    assert.equal(unknown.status, 400);
    assert.match((unknown.json as { error_description: string }).error_description, /^AADSTS700016: Application with identifier 'nobody' was not found in the directory/);
    const sdk = await rejection(secretCredential('x', 'nobody').getToken(ARM_SCOPE));
    assert.match(sdk.message, /AADSTS700016/);
  });

  it('refuses scopes without /.default and resources it does not know', async () => {
    const plain = await tokenRequest({ grant_type: 'client_credentials', client_id: SECRET_CLIENT, client_secret: 'the-secret', scope: 'https://management.core.windows.net/' });
    assert.equal(plain.status, 400);
    assert.match((plain.json as { error_description: string }).error_description, /^AADSTS1002012/);
    const unknown = await tokenRequest({ grant_type: 'client_credentials', client_id: SECRET_CLIENT, client_secret: 'the-secret', scope: 'https://vault.azure.net/.default' });
    assert.match((unknown.json as { error_description: string }).error_description, /^AADSTS500011: The resource principal named https:\/\/vault\.azure\.net was not found/);
  });

  it('signs in with a certificate assertion checked against the principal certificate', async () => {
    const credential = new ClientCertificateCredential(TENANT, CERT_CLIENT, { certificate: `${certificate.certPem}\n${certificate.keyPem}` }, options());
    const token = await credential.getToken(ARM_SCOPE);
    assert.equal(decode(token!.token).payload.appid, CERT_CLIENT);
    assert.equal(decode(token!.token).payload.appidacr, '2');
    const chained = new ClientCertificateCredential(TENANT, CERT_CLIENT, { certificate: `${certificate.certPem}\n${certificate.keyPem}` }, { ...options(), sendCertificateChain: true });
    assert.ok(await chained.getToken(STORAGE_SCOPE));

    const wrong = new ClientCertificateCredential(TENANT, CERT_CLIENT, { certificate: `${otherCertificate.certPem}\n${otherCertificate.keyPem}` }, options());
    assert.match((await rejection(wrong.getToken(ARM_SCOPE))).message, /AADSTS700027/);
    const noCertificate = new ClientCertificateCredential(TENANT, SECRET_CLIENT, { certificate: `${certificate.certPem}\n${certificate.keyPem}` }, options());
    assert.match((await rejection(noCertificate.getToken(ARM_SCOPE))).message, /AADSTS700027: The certificate .* is not registered on application/);
  });

  it('signs in with a federated assertion from the local OIDC issuer whose subject names the service connection', async () => {
    const credential = new ClientAssertionCredential(TENANT, SECRET_CLIENT, () => azure.federationToken(), options());
    const token = await credential.getToken(ARM_SCOPE);
    assert.equal(decode(token!.token).payload.appid, SECRET_CLIENT);
    const assertion = decode(await azure.federationToken());
    assert.equal(assertion.payload.sub, 'sc://LocalOrg/ImageFactory/LocalAzure');
    assert.equal(assertion.payload.aud, 'api://AzureADTokenExchange');
    assert.equal(assertion.payload.iss, `${azure.armUrl}/__local/oidc`);

    const otherSubject = new ClientAssertionCredential(TENANT, SECRET_CLIENT, () => azure.federationToken({ subject: 'sc://LocalOrg/ImageFactory/Other' }), options());
    assert.match((await rejection(otherSubject.getToken(ARM_SCOPE))).message, /AADSTS70021: No matching federated identity record found/);
    const withoutJobToken = await azure.request('POST', '/__local/oidctoken?api-version=7.1&serviceConnectionId=LocalAzure', { body: {} });
    assert.equal(withoutJobToken.status, 401, 'the OIDC endpoint wants the job access token');
    const env = azure.federatedEnv;
    assert.equal(JSON.parse(env.ENDPOINT_AUTH_LocalAzure).scheme, 'WorkloadIdentityFederation');
    assert.equal(env.SYSTEM_OIDCREQUESTURI, `${azure.armUrl}/__local/oidctoken`);
  });

  it('has Resource Manager refuse missing, foreign and wrong-audience tokens with 401 and a challenge', async () => {
    const missing = await armGet();
    assert.equal(missing.status, 401);
    assert.equal((missing.json as { error: { code: string } }).error.code, 'AuthenticationFailed');
    assert.match(String(missing.headers['www-authenticate']), new RegExp(`^Bearer authorization_uri="${azure.authorityUrl}/${TENANT}", error="invalid_token"`));

    const garbage = await armGet('not.a.token');
    assert.equal((garbage.json as { error: { code: string } }).error.code, 'InvalidAuthenticationToken');
    const real = (await secretCredential().getToken(ARM_SCOPE))!.token;
    const [header, payload] = real.split('.');
    const forged = `${header}.${payload}.${Buffer.from('forged').toString('base64url')}`;
    const forgedAnswer = await armGet(forged);
    assert.equal(forgedAnswer.status, 401);
    assert.equal((forgedAnswer.json as { error: { code: string } }).error.code, 'InvalidAuthenticationToken');

    const storageToken = (await secretCredential().getToken(STORAGE_SCOPE))!.token;
    const audience = await armGet(storageToken);
    assert.equal(audience.status, 401);
    assert.equal((audience.json as { error: { code: string } }).error.code, 'InvalidAuthenticationTokenAudience');
    assert.equal((await armGet(real)).status, 200);
  });

  it('lets tokens expire after tokenLifetimeSeconds; the SDK gets a new one and carries on', async () => {
    await azure.setSettings({ tokenLifetimeSeconds: 2 });
    try {
      const clients = sdkClients(azure, SUB);
      const old = (await clients.credential.getToken(ARM_SCOPE))!;
      const jwt = decode(old.token);
      assert.equal(jwt.payload.exp - jwt.payload.iat, 2);
      assert.equal((await clients.devTestLabs.labs.get('RG', 'Lab')).name, 'Lab');
      await new Promise((resolve) => setTimeout(resolve, 2200));

      const expired = await armGet(old.token);
      assert.equal(expired.status, 401);
      assert.equal((expired.json as { error: { code: string } }).error.code, 'ExpiredAuthenticationToken');
      assert.match(String(expired.headers['www-authenticate']), /error="invalid_token"/);

      await azure.resetMetrics();
      assert.equal((await clients.devTestLabs.labs.get('RG', 'Lab')).name, 'Lab');
      const metrics = await azure.metrics();
      assert.ok(metrics.byOperation.Token >= 1, `a new token was issued: ${JSON.stringify(metrics.byOperation)}`);
      assert.equal(metrics.byOperation.Labs_Get, 1, 'and the call went through at once');
    } finally {
      await azure.setSettings({ tokenLifetimeSeconds: 3600 });
    }
  });

  it('counts token requests, and a token endpoint fault is retried by the credential', async () => {
    await azure.resetMetrics();
    await azure.setFaults([{ operation: 'Token', kind: 'status', status: 503, retryAfterSeconds: 0, count: 1 }]);
    assert.ok(await secretCredential().getToken(ARM_SCOPE));
    const metrics = await azure.metrics();
    assert.equal(metrics.byOperation.Token, 2, JSON.stringify(metrics.byOperation));
  });
});
