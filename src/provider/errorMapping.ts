// The ONE place that builds vscode.FileSystemError from the core's ShareError (core/errors.ts).
import * as vscode from 'vscode';
import { isShareError } from '../core/errors';
import type { Logger } from '../core/log';
import { redactAddress } from '../core/shareLocation';
import { displayUri } from './shareUris';

/** Paths VS Code and other extensions probe when a folder opens; a 404 there is normal. */
const QUIET_PROBES = /(^|\/)(\.vscode|\.git|node_modules|\.devcontainer|\.editorconfig|pom\.xml|package\.json|\.gitignore|tsconfig\.json|jsconfig\.json)(\/|$)/;

export function toFileSystemError(err: unknown, uri: vscode.Uri, log: Logger): Error {
  if (err instanceof vscode.FileSystemError) return err;
  if (!isShareError(err)) {
    const where = displayUri(uri);
    log.error(`[provider] ${where}: unexpected failure`, err);
    return new vscode.FileSystemError(`${where}: ${redactAddress((err as Error)?.message ?? String(err))}`);
  }
  const message = err.message;
  switch (err.code) {
    case 'NotFound':
      (QUIET_PROBES.test(uri.path) ? log.trace : log.debug).call(log, `[provider] ${message}`);
      return vscode.FileSystemError.FileNotFound(message);
    case 'Exists':
      log.debug(`[provider] ${message}`);
      return vscode.FileSystemError.FileExists(message);
    case 'NotADirectory':
      return vscode.FileSystemError.FileNotADirectory(message);
    case 'IsADirectory':
      return vscode.FileSystemError.FileIsADirectory(message);
    case 'Unauthorized':
    case 'NoPermissions':
    case 'Locked':
      log.warn(`[provider] ${message}`);
      return vscode.FileSystemError.NoPermissions(message);
    case 'Unavailable':
    case 'InsufficientStorage':
      log.warn(`[provider] ${message}`);
      return vscode.FileSystemError.Unavailable(message);
    case 'Conflict':
    case 'NotEmpty':
    case 'Rejected':
      log.warn(`[provider] ${message}`);
      return new vscode.FileSystemError(message);
    case 'Other':
      log.error(`[provider] ${message}`, err.cause);
      return new vscode.FileSystemError(message);
  }
}
