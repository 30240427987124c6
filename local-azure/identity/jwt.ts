import { constants, createPrivateKey, createPublicKey, KeyObject, sign, verify } from 'node:crypto';

/** Compact JWS (JWT) signing and checking with RSA keys: RS256 and PS256, the algorithms MSAL uses. */

export type JwtHeader = { alg: string; typ?: string; kid?: string; x5t?: string; 'x5t#S256'?: string; x5c?: string[] } & Record<string, unknown>;
export type JwtPayload = Record<string, unknown> & {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
};

export interface DecodedJwt {
  header: JwtHeader;
  payload: JwtPayload;
  signingInput: string;
  signature: Buffer;
}

export function signJwt(payload: JwtPayload, privateKey: KeyObject | string, header: Omit<JwtHeader, 'alg'> = {}): string {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const encodedHeader = base64UrlJson({ typ: 'JWT', ...header, alg: 'RS256' });
  const signingInput = `${encodedHeader}.${base64UrlJson(payload)}`;
  const signature = sign('sha256', Buffer.from(signingInput), key);
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** The parts of a compact JWT, or undefined when it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]*$/.test(part))) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (!header || typeof header !== 'object' || typeof header.alg !== 'string') return undefined;
    if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
    return { header, payload, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
  } catch {
    return undefined;
  }
}

/** Whether `jwt` is signed by the key of `publicKey` (a public key or certificate PEM, or a KeyObject). */
export function verifyJwtSignature(jwt: DecodedJwt, publicKey: KeyObject | string): boolean {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  const data = Buffer.from(jwt.signingInput);
  try {
    switch (jwt.header.alg) {
      case 'RS256':
        return verify('sha256', data, key, jwt.signature);
      case 'PS256':
        return verify(
          'sha256',
          data,
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
          jwt.signature,
        );
      default:
        return false;
    }
  } catch {
    return false;
  }
}

function base64UrlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
