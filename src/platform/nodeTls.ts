// The TLS side of a share's Node transport: its certificate options (a CA file besides the system's, a
// client certificate as PEM or PKCS#12 with its passphrase) made into one secure context, and the
// check of the server's certificate before a single byte of a request is sent: what the system
// trusts passes; otherwise only the exact certificate the user trusted for this share (its SHA-256
// fingerprint, pinned like SSH's known_hosts). Node's own check runs with `rejectUnauthorized: false`
// on the share's connections only so that the refused certificate can be shown to the user; nothing
// passes that neither the system nor the pin accepts. Verification is never turned off.
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import { formatName, type CertificateInfo, type TlsProblem } from '../core/certificates';
import type { ShareOptions } from '../core/settings';

/** An error of the share's connection that carries its TLS problem (remote/httpErrors.ts explains it). */
export function tlsError(problem: TlsProblem, code: string, message: string): Error {
  return Object.assign(new Error(message), { code, tlsProblem: problem });
}

export interface TlsMaterial {
  /** The share's secure context (CA file, client certificate); undefined: the system's defaults. */
  readonly secureContext?: tls.SecureContext;
  /** Why the share's certificate options cannot be used (every connection fails with it). */
  readonly problem?: Error;
  /** For the log: "CA file …, client certificate …". */
  readonly description: string;
}

/** Reads the share's CA file and client certificate once, into a secure context. */
export function loadTlsMaterial(share: ShareOptions | undefined, passphrase: string | undefined): TlsMaterial {
  const parts: string[] = [];
  if (!share?.caFile && !share?.clientCertificate) return { description: '' };
  const context: tls.SecureContextOptions = {};
  try {
    if (share.caFile) {
      const pem = readOption(share.caFile, 'the CA file (caFile)');
      if (!/-----BEGIN CERTIFICATE-----/.test(pem.toString('latin1'))) throw optionsError(`the CA file ${share.caFile} (caFile) holds no PEM certificate`);
      context.ca = [...tls.rootCertificates, pem.toString('latin1')];
      parts.push(`CA file ${share.caFile}`);
    }
    let encrypted = false;
    if (share.clientCertificate) {
      const file = readOption(share.clientCertificate, 'the client certificate (clientCertificate)');
      const text = file.toString('latin1');
      if (/-----BEGIN CERTIFICATE-----/.test(text)) {
        context.cert = text;
        const key = share.clientKey ? readOption(share.clientKey, 'the client key (clientKey)').toString('latin1') : text;
        if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) {
          throw optionsError(`no private key for the client certificate: put it in ${share.clientCertificate} or set "clientKey" to its PEM file`);
        }
        context.key = key;
        encrypted = /ENCRYPTED/.test(key);
      } else {
        context.pfx = file; // PKCS#12 (.p12, .pfx)
        encrypted = true;
      }
      parts.push(`client certificate ${share.clientCertificate}`);
    }
    const secureContext = createContext(context, passphrase, encrypted);
    return { secureContext, description: parts.join(', ') };
  } catch (err) {
    const problem = (err as { tlsProblem?: TlsProblem }).tlsProblem ? (err as Error) : optionsError((err as Error).message);
    return { problem, description: `${parts.join(', ') || 'certificate options'} (unusable: ${problem.message})` };
  }
}

function createContext(options: tls.SecureContextOptions, passphrase: string | undefined, encrypted: boolean): tls.SecureContext {
  try {
    // a PKCS#12 file is often protected by an empty passphrase
    return tls.createSecureContext({ ...options, passphrase: passphrase ?? (options.pfx ? '' : undefined) });
  } catch (err) {
    const text = String((err as Error).message ?? err);
    if (/unsupported/i.test(text) && options.pfx) {
      throw optionsError(
        `the PKCS#12 file uses an old encryption this version of Node cannot read (${text}); convert it with "openssl pkcs12 -legacy -in old.p12 -nodes | openssl pkcs12 -export -out new.p12"`,
        'ok',
      );
    }
    if (encrypted && /decrypt|mac verify|password|passphrase|bad|PEM/i.test(text)) {
      throw optionsError(
        passphrase === undefined
          ? `the client certificate's key is protected by a passphrase and none is set: run "WebDAV: Set Client Certificate Passphrase…"`
          : `the passphrase set for the client certificate does not open its key: run "WebDAV: Set Client Certificate Passphrase…"`,
        passphrase === undefined ? 'missing' : 'wrong',
      );
    }
    throw optionsError(`the CA file or client certificate cannot be used (${text})`, 'ok');
  }
}

function readOption(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw optionsError(`${what} ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check webdavOffline.shares`, 'ok');
  }
}

function optionsError(detail: string, passphrase: 'missing' | 'wrong' | 'ok' = 'ok'): Error {
  return tlsError({ kind: 'options', passphrase, detail }, 'ERR_TLS_SHARE_OPTIONS', detail);
}

/**
 * Checks a connected socket's server certificate: resolves undefined when the system trusts it or it is
 * the certificate the user trusted for this share; else the error that refuses it.
 */
export function checkServerCertificate(socket: tls.TLSSocket, trusted: readonly string[]): Error | undefined {
  if (socket.authorized) return undefined;
  const peer = socket.getPeerCertificate(false);
  if (!peer || !peer.raw) {
    return Object.assign(new Error('the server sent no certificate'), { code: 'ERR_TLS_NO_CERTIFICATE' });
  }
  const certificate = certificateInfo(peer);
  if (trusted.includes(certificate.fingerprint)) return undefined;
  const reason = String(socket.authorizationError ?? 'UNKNOWN');
  if (trusted.length) {
    return tlsError({ kind: 'changed', pinned: trusted[0], certificate }, 'CERT_CHANGED', `the server's certificate ${certificate.fingerprint} is not the one trusted for this share (${trusted[0]})`);
  }
  return tlsError({ kind: 'untrusted', reason, certificate }, reason, `the server's certificate is not trusted (${reason}, SHA-256 ${certificate.fingerprint})`);
}

export function certificateInfo(peer: tls.PeerCertificate): CertificateInfo {
  return {
    fingerprint: peer.fingerprint256.toUpperCase(),
    subject: formatName(peer.subject),
    issuer: formatName(peer.issuer),
    altNames: peer.subjectaltname || undefined,
    validFrom: isoDate(peer.valid_from),
    validTo: isoDate(peer.valid_to),
  };
}

function isoDate(text: string): string {
  const t = Date.parse(text);
  return Number.isFinite(t) ? new Date(t).toISOString() : text;
}
