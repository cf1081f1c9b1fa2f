/**
 * Checks the architecture's import rules (run by the test command):
 * 1. a component (a folder under src/) imports another only through its `index.ts`;
 * 2. the component graph has no cycles.
 * Prints each violation and exits 1 if there is any.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const src = join(root, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const componentOf = (file: string) => relative(src, file).split('/')[0]!;
const problems: string[] = [];
const edges = new Map<string, Set<string>>();

for (const file of files(src)) {
  const from = componentOf(file);
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)) {
    const target = resolve(dirname(file), match[1]!);
    if (!target.startsWith(src + '/')) continue;
    const to = componentOf(target);
    if (to === from) continue;
    if (relative(join(src, to), target) !== 'index.ts') {
      problems.push(`${relative(root, file)}: imports ${relative(root, target)}, an internal file of src/${to} (use src/${to}/index.ts)`);
    }
    if (!edges.has(from)) edges.set(from, new Set());
    edges.get(from)!.add(to);
  }
}

// Depth-first search for a cycle among components.
const state = new Map<string, 'visiting' | 'done'>();
function visit(node: string, path: string[]): void {
  if (state.get(node) === 'done') return;
  if (state.get(node) === 'visiting') {
    problems.push(`import cycle between components: ${[...path.slice(path.indexOf(node)), node].join(' → ')}`);
    return;
  }
  state.set(node, 'visiting');
  for (const next of edges.get(node) ?? []) visit(next, [...path, node]);
  state.set(node, 'done');
}
for (const node of edges.keys()) visit(node, []);

if (problems.length > 0) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
console.log(`imports ok: ${edges.size} components, no cycles, no reaching into internals`);
