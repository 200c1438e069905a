/**
 * @module Lint's folder-level cycle check: fails when top-level folders of a source tree (core's
 * image/, embed/, store/, ...) import each other in a circle, naming each cycle and the imports that
 * make it. import-x/no-cycle in eslint.config.js covers cycles between files.
 *
 * node scripts/lint/dist/check-folder-cycles.js [SRC_DIR ...]   (default packages/core/src)
 *
 * Every import counts, type-only ones too: a folder that needs another's words depends on it (those
 * words belong in a folder both can import, such as domain/). Tests (*.test.ts, *.contract.ts) do
 * not count: a test may set up its subject with any folder without making the code depend on it.
 * A file directly under SRC_DIR (errors.ts, index.ts) is a node of its own.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

interface Import {
  readonly file: string;
  readonly specifier: string;
  readonly typeOnly: boolean;
}

/** Folder graph: from -> to -> the imports that make the edge. */
type Graph = Map<string, Map<string, Import[]>>;

/** Most cycles printed per strongly connected group of folders; the rest are counted. */
const MAX_CYCLES = 20;
/** Most importing files named per edge of a printed cycle. */
const MAX_FILES = 3;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    const source = entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts');
    const test = entry.name.endsWith('.test.ts') || entry.name.endsWith('.contract.ts');
    return source && !test ? [path] : [];
  });
}

/** Relative module specifiers of a file, with whether each brings in types only. */
function importsOf(file: string): { specifier: string; typeOnly: boolean }[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: { specifier: string; typeOnly: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            bindings !== undefined &&
            ts.isNamedImports(bindings) &&
            bindings.elements.length > 0 &&
            bindings.elements.every((e) => e.isTypeOnly)));
      found.push({ specifier: node.moduleSpecifier.text, typeOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.exportClause;
      const typeOnly =
        node.isTypeOnly ||
        (clause !== undefined &&
          ts.isNamedExports(clause) &&
          clause.elements.length > 0 &&
          clause.elements.every((e) => e.isTypeOnly));
      found.push({ specifier: node.moduleSpecifier.text, typeOnly });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push({ specifier: node.arguments[0].text, typeOnly: false });
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      found.push({ specifier: node.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found.filter((i) => i.specifier.startsWith('.'));
}

/** The node a path belongs to: its top-level folder, or its own name when it lies directly in root. */
function nodeOf(root: string, path: string): string | undefined {
  const rel = relative(root, path);
  if (rel === '' || rel.startsWith('..')) return undefined;
  const parts = rel.split(sep);
  return parts.length === 1 ? parts[0]!.replace(/\.js$/, '.ts') : parts[0]!;
}

function folderGraph(root: string): Graph {
  const graph: Graph = new Map();
  for (const file of sourceFiles(root)) {
    const from = nodeOf(root, file)!;
    const edges = graph.get(from) ?? new Map<string, Import[]>();
    graph.set(from, edges);
    for (const { specifier, typeOnly } of importsOf(file)) {
      const to = nodeOf(root, resolve(dirname(file), specifier));
      if (to === undefined || to === from) continue;
      const list = edges.get(to) ?? [];
      list.push({ file: relative(root, file), specifier, typeOnly });
      edges.set(to, list);
    }
  }
  return graph;
}

/** Strongly connected groups of more than one node (Tarjan 1972, "Depth-first search and linear graph algorithms"). */
function cyclicGroups(graph: Graph): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1) groups.push(group.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v);
  return groups;
}

/** Elementary cycles inside one group, each starting at its smallest node, shortest first. */
function cyclesIn(graph: Graph, group: readonly string[]): string[][] {
  const members = new Set(group);
  const cycles: string[][] = [];
  const walk = (start: string, path: string[]): void => {
    const last = path[path.length - 1]!;
    for (const next of [...(graph.get(last)?.keys() ?? [])].sort()) {
      if (!members.has(next)) continue;
      if (next === start) cycles.push([...path, start]);
      // Only nodes after start: each cycle is found once, from its smallest node.
      else if (next > start && !path.includes(next)) walk(start, [...path, next]);
    }
  };
  for (const start of group) walk(start, [start]);
  return cycles.sort((a, b) => a.length - b.length || a.join().localeCompare(b.join()));
}

function describeEdge(graph: Graph, from: string, to: string): string {
  const imports = graph.get(from)!.get(to)!;
  const files = [...new Set(imports.map((i) => `${i.file} (${i.specifier})`))];
  const shown = files.slice(0, MAX_FILES).join(', ');
  const more = files.length > MAX_FILES ? `, and ${files.length - MAX_FILES} more` : '';
  const types = imports.every((i) => i.typeOnly) ? ' [types only]' : '';
  return `    ${from} -> ${to}${types}: ${shown}${more}`;
}

function check(root: string): boolean {
  const graph = folderGraph(root);
  const groups = cyclicGroups(graph);
  const name = relative(process.cwd(), root) || '.';
  if (groups.length === 0) {
    console.log(`check-folder-cycles: no folder cycles in ${name} (${graph.size} folders and top-level files)`);
    return true;
  }
  for (const group of groups) {
    const cycles = cyclesIn(graph, group);
    console.error(`check-folder-cycles: folders of ${name} import each other in a circle: ${group.join(', ')}`);
    for (const cycle of cycles.slice(0, MAX_CYCLES)) {
      console.error(`  cycle ${cycle.join(' -> ')}`);
      for (let i = 0; i + 1 < cycle.length; i++) console.error(describeEdge(graph, cycle[i]!, cycle[i + 1]!));
    }
    if (cycles.length > MAX_CYCLES) console.error(`  and ${cycles.length - MAX_CYCLES} more cycles`);
  }
  console.error('Break each cycle: move what both sides need into a folder that imports neither (e.g. domain/).');
  return false;
}

const roots = process.argv.length > 2 ? process.argv.slice(2) : ['packages/core/src'];
const results = roots.map((root) => check(resolve(root)));
if (!results.every(Boolean)) process.exitCode = 1;
