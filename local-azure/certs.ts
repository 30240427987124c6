import { createHash, generateKeyPair, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as forge from 'node-forge';

/**
 * Certificates for the local Azure's HTTPS endpoints. A CA kept in a directory is reused across runs, so
 * a shell, a test run and an agent can trust it once (NODE_EXTRA_CA_CERTS); each start issues a fresh
 * server certificate for the loopback names from it.
 */

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
  /** Where ca.pem is on disk, when the CA lives in a directory. */
  certPath?: string;
}

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** A 2048-bit RSA key pair (PKCS#8 / SPKI PEM); generated off the main thread. */
export async function createRsaKeyPair(): Promise<KeyPairPem> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

const CA_CERT_FILE = 'ca.pem';
const CA_KEY_FILE = 'ca-key.pem';
const CA_SUBJECT = 'Local Azure Test CA';
/** Creating a CA takes well under this; a lone key file older than this was left by a creator that died. */
const STALE_KEY_MS = 10_000;

/**
 * The CA in `caDir` (ca.pem, ca-key.pem), created there when absent. Without a directory, a CA for this
 * process only. Several processes may start at once on an empty directory: the key file is created
 * exclusively, the certificate is renamed into place last, and a process that loses the race waits for it.
 */
export async function loadOrCreateCa(caDir?: string): Promise<CertificateAuthority> {
  if (!caDir) return createCa();
  const certPath = path.join(caDir, CA_CERT_FILE);
  const keyPath = path.join(caDir, CA_KEY_FILE);
  const existing = readCa(certPath, keyPath);
  if (existing) return existing;
  fs.mkdirSync(caDir, { recursive: true });
  let keyFile: number | undefined;
  try {
    keyFile = fs.openSync(keyPath, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // A key file without a certificate is another creator at work, or one that died: wait only for a live one.
    const age = Date.now() - fs.statSync(keyPath).mtimeMs;
    const other = age < STALE_KEY_MS ? await waitForCa(certPath, keyPath, STALE_KEY_MS - age) : undefined;
    if (other) return other;
    // The other creator died half-way: start over.
    keyFile = fs.openSync(keyPath, 'w', 0o600);
  }
  const ca = await createCa();
  fs.writeSync(keyFile, ca.keyPem);
  fs.closeSync(keyFile);
  const temporary = `${certPath}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, ca.certPem);
  fs.renameSync(temporary, certPath);
  return { ...ca, certPath };
}

function readCa(certPath: string, keyPath: string): CertificateAuthority | undefined {
  if (!fs.existsSync(certPath) || !fs.existsSync(keyPath)) return undefined;
  const certPem = fs.readFileSync(certPath, 'utf8');
  const keyPem = fs.readFileSync(keyPath, 'utf8');
  if (!certPem.includes('BEGIN CERTIFICATE') || !keyPem.includes('PRIVATE KEY')) return undefined;
  const cert = forge.pki.certificateFromPem(certPem);
  // A CA about to expire would break long runs in confusing ways; replace it instead.
  if (cert.validity.notAfter.getTime() - Date.now() < 24 * 3600 * 1000) return undefined;
  return { certPem, keyPem, certPath };
}

async function waitForCa(certPath: string, keyPath: string, timeoutMs: number): Promise<CertificateAuthority | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ca = readCa(certPath, keyPath);
    if (ca) return ca;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

async function createCa(): Promise<CertificateAuthority> {
  const keys = await createRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(Date.now() - 3600 * 1000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000);
  const subject = [{ name: 'commonName', value: CA_SUBJECT }, { name: 'organizationName', value: 'Local Azure' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keys.privateKeyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privateKeyPem };
}

/** A TLS server certificate for `hosts` (IP addresses and DNS names), signed by `ca`. */
export function issueServerCertificate(ca: CertificateAuthority, hosts: readonly string[], keys: KeyPairPem): IssuedCertificate {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(Date.now() - 3600 * 1000);
  cert.validity.notAfter = new Date(Date.now() + 30 * 24 * 3600 * 1000);
  cert.setSubject([{ name: 'commonName', value: hosts[0] ?? 'localhost' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: hosts.map((host) => (isIpAddress(host) ? { type: 7, ip: host } : { type: 2, value: host })),
    },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.keyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privateKeyPem };
}

/**
 * A self-signed certificate for a service principal's certificate credential: the identity authority
 * checks client assertions against it.
 */
export async function createClientCertificate(commonName: string): Promise<IssuedCertificate> {
  const keys = await createRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(Date.now() - 3600 * 1000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 24 * 3600 * 1000);
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([{ name: 'keyUsage', digitalSignature: true, critical: true }]);
  cert.sign(forge.pki.privateKeyFromPem(keys.privateKeyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privateKeyPem };
}

/** SHA-1 and SHA-256 thumbprints of a PEM certificate, base64url as in JWT `x5t` / `x5t#S256`. */
export function certificateThumbprints(certPem: string): { sha1: string; sha256: string } {
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(forge.pki.certificateFromPem(certPem))).getBytes(), 'binary');
  return {
    sha1: createHash('sha1').update(der).digest('base64url'),
    sha256: createHash('sha256').update(der).digest('base64url'),
  };
}

function serialNumber(): string {
  // Positive: a leading 0x00-0x7f byte keeps the DER integer from reading as negative.
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  return bytes.toString('hex');
}

function isIpAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}
