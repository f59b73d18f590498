// What the localization check reads from the sources, with the TypeScript compiler's own parser: every
// `vscode.l10n.t(…)` call (its message must be a plain string literal, or the key cannot be checked
// against the bundles), and string literals that look like text a person reads but are handed to the
// UI without l10n (a message, a title, a prompt, a label…).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as ts from 'typescript';

export interface L10nCall {
  readonly file: string;
  readonly line: number;
  /** The message (the key of the bundles); undefined when it is not a plain literal. */
  readonly message?: string;
}

export interface BareText {
  readonly file: string;
  readonly line: number;
  readonly text: string;
  readonly where: string;
}

export function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Object properties whose string value the user reads (quick picks, input boxes, tree items, progress). */
const UI_PROPERTIES = new Set(['title', 'prompt', 'placeHolder', 'placeholder', 'label', 'description', 'detail', 'tooltip', 'message']);
/** Calls whose first argument the user reads. */
const UI_CALLS = /^(showInformationMessage|showWarningMessage|showErrorMessage|FileNotFound|NoPermissions|Unavailable|FileExists|FileIsADirectory|FileNotADirectory)$/;

/** Text meant for a person: two words of letters at least (not a codicon, a URL, an id or a path). */
function looksLikeText(s: string): boolean {
  const stripped = s.replace(/\$\([\w~-]+\)/g, '').replace(/https?:\/\/\S+/g, '');
  return /[A-Za-z]{2,}\s+[A-Za-z]{2,}/.test(stripped);
}

function literalText(node: ts.Node): string | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) return node.head.text + node.templateSpans.map(s => s.literal.text).join(' ');
  return undefined;
}

export function scan(root: string, files: string[]): { calls: L10nCall[]; bare: BareText[] } {
  const calls: L10nCall[] = [];
  const bare: BareText[] = [];
  for (const path of files) {
    const file = relative(root, path);
    const sf = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
    const lineOf = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node)) {
        const callee = node.expression.getText(sf);
        if (/(^|\.)l10n\.t$/.test(callee)) {
          const first = node.arguments[0];
          calls.push({ file, line: lineOf(node), message: first && (ts.isStringLiteral(first) || ts.isNoSubstitutionTemplateLiteral(first)) ? first.text : undefined });
          return; // its arguments are values, not text
        }
        const name = ts.isPropertyAccessExpression(node.expression) ? node.expression.name.text : callee;
        if (UI_CALLS.test(name)) {
          for (const arg of node.arguments) {
            const text = literalText(arg);
            if (text !== undefined && looksLikeText(text)) bare.push({ file, line: lineOf(arg), text, where: `${name}(…)` });
          }
        }
      }
      if (ts.isPropertyAssignment(node) && UI_PROPERTIES.has(node.name.getText(sf))) {
        const text = literalText(node.initializer);
        if (text !== undefined && looksLikeText(text)) bare.push({ file, line: lineOf(node), text, where: `${node.name.getText(sf)}:` });
      }
      if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken && ts.isPropertyAccessExpression(node.left) && UI_PROPERTIES.has(node.left.name.text)) {
        const text = literalText(node.right);
        if (text !== undefined && looksLikeText(text)) bare.push({ file, line: lineOf(node), text, where: `.${node.left.name.text} =` });
      }
      if (ts.isNewExpression(node) && /(^|\.)(TreeItem|Error)$/.test(node.expression.getText(sf))) {
        const text = node.arguments?.[0] && literalText(node.arguments[0]);
        if (text !== undefined && looksLikeText(text)) bare.push({ file, line: lineOf(node), text, where: `new ${node.expression.getText(sf)}(…)` });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return { calls, bare };
}

/** The placeholders of a message: {0}, {1}, … as a sorted set. */
export function placeholders(message: string): string[] {
  return [...new Set([...message.matchAll(/\{(\d+)\}/g)].map(m => m[1]))].sort();
}
