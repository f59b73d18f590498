// The changes a tab makes in test/web/twoTabs.test.ts (its worker, tabDriver.ts, makes them; the test
// computes what they must give): every third saves /a.txt, the others create /<tab>-<n>.txt — a create
// applied twice would be a conflict, a save lost would show in /a.txt.
export function changeOf(tab: string, n: number): { path: string; content: string; create: boolean } {
  const content = `${tab} change #${n}\n`;
  return n % 3 === 0 ? { path: '/a.txt', content, create: false } : { path: `/${tab}-${n}.txt`, content, create: true };
}
