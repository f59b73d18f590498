// Every command goes through one wrapper: errors are logged and shown once, with a way to the log.
import * as vscode from 'vscode';
import type { Logger } from '../core/log';

export type CommandTable = Record<string, (...args: any[]) => unknown>;

export function registerCommands(table: CommandTable, log: Logger, showLog: () => void): vscode.Disposable {
  return vscode.Disposable.from(
    ...Object.entries(table).map(([id, handler]) =>
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await handler(...args);
        } catch (err) {
          const message = (err as Error)?.message ?? String(err);
          log.error(`[command] ${id}: ${message}`);
          // shown here once; not rethrown, or VS Code would show a second, less clear notification
          void vscode.window.showErrorMessage(message, vscode.l10n.t('Show Log')).then(choice => {
            if (choice) showLog();
          });
          return undefined;
        }
      }),
    ),
  );
}
