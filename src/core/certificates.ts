// What a share knows about a server certificate it could not trust, in words a user can check: the
// SHA-256 fingerprint (what "Trust this certificate for this share" pins, like SSH's known_hosts),
// subject, issuer, validity and why the system refused it. The Node transport (platform/) finds the
// problem, the remote (remote/httpErrors.ts) carries it in a ShareError's cause, the share's sign-in
// (share/shareAuth.ts) asks the user through its AuthHandler. No vscode, no Node: pure data and text.

/** A server certificate as the trust prompt shows it. */
export interface CertificateInfo {
  /** SHA-256 of the DER certificate: upper-case hex pairs joined by `:`. */
  readonly fingerprint: string;
  readonly subject: string;
  readonly issuer: string;
  /** Names the certificate is made out for (subjectAltName), as the certificate says them. */
  readonly altNames?: string;
  /** ISO dates. */
  readonly validFrom: string;
  readonly validTo: string;
}

/**
 * Why a secure connection to a share was refused:
 * - `untrusted`: the system does not trust the certificate (self-signed, unknown authority, expired, made
 *   out for another name) and the user has not trusted it for this share — the share may ask;
 * - `changed`: the user trusted another certificate for this share; this one is refused, never asked about
 *   silently;
 * - `options`: the share's own certificate options cannot be used (a CA file or client certificate that
 *   cannot be read, a passphrase that is missing or wrong).
 */
export type TlsProblem =
  | { readonly kind: 'untrusted'; readonly reason: string; readonly certificate: CertificateInfo }
  | { readonly kind: 'changed'; readonly pinned: string; readonly certificate: CertificateInfo }
  | { readonly kind: 'options'; readonly passphrase: 'missing' | 'wrong' | 'ok'; readonly detail: string };

/** `ab:cd…`, `ABCD…` → `AB:CD:…`; undefined when it is not 32 bytes of hex. */
export function normalizeFingerprint(value: string): string | undefined {
  const hex = value.replace(/[\s:]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}

/** Why the system refused a certificate, from OpenSSL's / Node's code, in words. */
export function describeTrustReason(code: string, certificate?: CertificateInfo): string {
  switch (code) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return 'it is self-signed (made by the server itself, as a NAS does out of the box)';
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      return 'it is issued by a certificate authority this computer does not know';
    case 'CERT_HAS_EXPIRED':
      return `it expired${certificate ? ` on ${day(certificate.validTo)}` : ''}`;
    case 'CERT_NOT_YET_VALID':
      return `it is not valid yet${certificate ? ` (from ${day(certificate.validFrom)})` : ''}`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `it is made out for another name${certificate?.altNames ? ` (${certificate.altNames})` : ''}`;
    default:
      return `the system refused it (${code})`;
  }
}

/** The certificate as lines for a prompt or a log. */
export function describeCertificate(c: CertificateInfo): string {
  return [
    `SHA-256 fingerprint: ${c.fingerprint}`,
    `Subject: ${c.subject}`,
    `Issuer: ${c.issuer}${c.issuer === c.subject ? ' (self-signed)' : ''}`,
    ...(c.altNames ? [`Names: ${c.altNames}`] : []),
    `Valid: ${day(c.validFrom)} to ${day(c.validTo)}`,
  ].join('\n');
}

/** The TLS problem a failure carries (in itself or along its causes), if any. */
export function tlsProblemOf(err: unknown): TlsProblem | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const problem = (e as { tlsProblem?: TlsProblem }).tlsProblem;
    if (problem) return problem;
  }
  return undefined;
}

/** A distinguished name from Node's parsed form (`{ CN: 'nas', O: 'x' }`) or a string, in one line. */
export function formatName(name: unknown): string {
  if (typeof name === 'string') return name;
  if (!name || typeof name !== 'object') return '';
  return Object.entries(name as Record<string, unknown>)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`)
    .join(', ');
}

function day(iso: string): string {
  return /^\d{4}-\d\d-\d\d/.test(iso) ? iso.slice(0, 10) : iso;
}
