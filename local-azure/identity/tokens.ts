import { createHash, createPrivateKey, createPublicKey, KeyObject, randomUUID } from 'node:crypto';
import type { KeyPairPem } from '../certs';
import type { Settings } from '../settings';
import { decodeJwt, signJwt, verifyJwtSignature, type DecodedJwt, type JwtPayload } from './jwt';
import { TOKEN_EXCHANGE_AUDIENCE, type IdentityState, type Principal } from './state';

/**
 * The authority's tokens: access tokens for Resource Manager and Storage, federation tokens of the
 * local OIDC issuer, all signed with one key, and the checks Resource Manager and the blob front make
 * of an access token.
 */

export interface AccessTokenClaims extends JwtPayload {
  aud: string;
  iss: string;
  exp: number;
  tid: string;
  oid: string;
  appid: string;
}

export type TokenCheck =
  | { ok: true; claims: AccessTokenClaims }
  | { ok: false; code: 'InvalidAuthenticationToken' | 'ExpiredAuthenticationToken' | 'InvalidAuthenticationTokenAudience'; message: string };

/** Resource ids the authority issues tokens for (compared without a trailing slash, case-insensitively). */
export const ARM_AUDIENCES = ['https://management.core.windows.net/', 'https://management.azure.com/'];
export const STORAGE_AUDIENCES = ['https://storage.azure.com/'];

const FEDERATION_TOKEN_LIFETIME_SECONDS = 600;

export interface TokenIssuerOptions {
  identity: IdentityState;
  /** Read at each token: `tokenLifetimeSeconds`. */
  settings: Readonly<Settings>;
  signingKey: KeyPairPem;
  /** The server's base URL, known once it listens. */
  baseUrl: () => string;
}

export class TokenIssuer {
  private readonly identity: IdentityState;
  private readonly settings: Readonly<Settings>;
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly kid: string;
  private readonly baseUrl: () => string;

  constructor(options: TokenIssuerOptions) {
    this.identity = options.identity;
    this.settings = options.settings;
    this.privateKey = createPrivateKey(options.signingKey.privateKeyPem);
    this.publicKey = createPublicKey(options.signingKey.publicKeyPem);
    this.kid = createHash('sha256').update(this.publicKey.export({ type: 'spki', format: 'der' })).digest('base64url').slice(0, 27);
    this.baseUrl = options.baseUrl;
  }

  /** Issuer of the access tokens of `tenant`, as its openid-configuration states it. */
  issuer(tenant = this.identity.tenantId): string {
    return `${this.baseUrl()}/${tenant}/v2.0`;
  }

  /** The issuer of federation tokens (the stand-in for Azure DevOps' OIDC issuer). */
  get federationIssuer(): string {
    return `${this.baseUrl()}/__local/oidc`;
  }

  /** The signing keys, as the JWKS endpoints publish them. */
  jwks(): Record<string, unknown> {
    const jwk = this.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
    return { keys: [{ kty: 'RSA', use: 'sig', alg: 'RS256', kid: this.kid, n: jwk.n, e: jwk.e }] };
  }

  /** Whether the JWT is signed with the authority's key. */
  signedHere(jwt: DecodedJwt): boolean {
    return jwt.header.kid === this.kid && verifyJwtSignature(jwt, this.publicKey);
  }

  /** Whether the authority issues tokens for `resource` (Resource Manager, Storage, or the local Azure itself). */
  knownResource(resource: string): boolean {
    const wanted = normalizeAudience(resource);
    return [...ARM_AUDIENCES, ...STORAGE_AUDIENCES, this.baseUrl()].some((known) => normalizeAudience(known) === wanted);
  }

  /** An access token of `principal` for `resource`, living `tokenLifetimeSeconds`. */
  accessToken(principal: Principal, resource: string, appidacr: '0' | '1' | '2'): { accessToken: string; lifetime: number; expiresOn: number } {
    const lifetime = this.settings.tokenLifetimeSeconds;
    const now = Math.floor(Date.now() / 1000);
    const claims: AccessTokenClaims = {
      aud: resource,
      iss: this.issuer(),
      iat: now,
      nbf: now,
      exp: now + lifetime,
      tid: this.identity.tenantId,
      oid: principal.objectId,
      sub: principal.objectId,
      appid: principal.clientId,
      azp: principal.clientId,
      appidacr,
      idtyp: 'app',
      uti: randomUUID().replace(/-/g, '').slice(0, 22),
      ver: '2.0',
    };
    return { accessToken: signJwt(claims, this.privateKey, { kid: this.kid }), lifetime, expiresOn: now + lifetime };
  }

  /** A token of the local OIDC issuer for `subject`, as an Azure DevOps pipeline obtains for a service connection. */
  issueFederationToken(subject: string, audience = TOKEN_EXCHANGE_AUDIENCE): string {
    const now = Math.floor(Date.now() / 1000);
    return signJwt(
      { iss: this.federationIssuer, sub: subject, aud: audience, iat: now, nbf: now, exp: now + FEDERATION_TOKEN_LIFETIME_SECONDS },
      this.privateKey,
      { kid: this.kid },
    );
  }

  /**
   * Checks an access token from this authority: signature, issuer, lifetime and, when `audiences` is
   * given, that its audience is one of them. The failure codes are Resource Manager's.
   */
  verifyAccessToken(token: string, audiences?: readonly string[]): TokenCheck {
    const invalid = (message = 'The access token is invalid.'): TokenCheck => ({ ok: false, code: 'InvalidAuthenticationToken', message });
    const jwt = decodeJwt(token);
    if (!jwt) return invalid('The access token is invalid: it is not a JSON Web Token.');
    if (!this.signedHere(jwt)) {
      return invalid('The access token is invalid: its signature does not verify with the signing keys of the authority.');
    }
    const claims = jwt.payload as AccessTokenClaims;
    if (claims.iss !== this.issuer()) return invalid(`The access token is from issuer '${claims.iss}'; this tenant's issuer is '${this.issuer()}'.`);
    const now = Date.now() / 1000;
    if (typeof claims.exp !== 'number' || claims.exp <= now) {
      return {
        ok: false,
        code: 'ExpiredAuthenticationToken',
        message: `The access token expiry UTC time '${utc(claims.exp * 1000)}' is earlier than current UTC time '${utc(Date.now())}'.`,
      };
    }
    if (audiences && !audiences.some((aud) => normalizeAudience(aud) === normalizeAudience(claims.aud))) {
      return {
        ok: false,
        code: 'InvalidAuthenticationTokenAudience',
        message: `The access token has been obtained for wrong audience or resource '${claims.aud}'. It should exactly match with one of the allowed audiences ${audiences
          .map((aud) => `'${aud}'`)
          .join(',')}.`,
      };
    }
    return { ok: true, claims };
  }
}

function normalizeAudience(audience: string): string {
  return audience.replace(/\/+$/, '').toLowerCase();
}

export function utc(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
