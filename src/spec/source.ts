import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { SpecIssue } from '../errors.js';

export type PathKey = string | number;

/** Where something is in the stack file. */
export interface Position {
  line: number;
  column: number;
}

/** `['services','api','deploy']` -> `services.api.deploy`; indexes as `routes[0].to`. */
export function dotted(path: readonly PathKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}

/**
 * The parsed stack file with line positions. `locate` maps a path of the
 * data back to the YAML node it came from (or its deepest existing parent).
 */
export class StackSource {
  readonly data: unknown;
  readonly syntaxIssues: SpecIssue[];
  private readonly doc: Document;
  private readonly lines: LineCounter;

  constructor(readonly file: string, text: string) {
    this.lines = new LineCounter();
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    this.syntaxIssues = this.doc.errors.map((e) => {
      const [line, column] = e.linePos?.[0] ? [e.linePos[0].line, e.linePos[0].col] : this.at(e.pos[0]);
      return { file, line, column, path: '', message: `YAML syntax: ${firstLine(e.message)}` };
    });
    this.data = this.syntaxIssues.length === 0 ? this.toData() : undefined;
  }

  /** The document as data; aliases that expand past 100 nodes (an alias bomb) are an issue at the first alias. */
  private toData(): unknown {
    try {
      return this.doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      if (!/alias count/i.test((err as Error).message)) throw err;
      let first: number | undefined;
      visit(this.doc, { Alias: (_, node) => { first ??= node.range?.[0]; return first === undefined ? undefined : visit.BREAK; } });
      const [line, column] = first === undefined ? [1, 1] : this.at(first);
      this.syntaxIssues.push({ file: this.file, line, column, path: '', message: 'YAML aliases expand to too many nodes (more than 100 uses of an alias): write the values out, or use fewer aliases' });
      return undefined;
    }
  }

  /** True when the exact path exists in the file. */
  has(path: readonly PathKey[]): boolean {
    return this.walk(path).depth === path.length;
  }

  /**
   * Position of the exact path, or of its deepest existing ancestor (line 1
   * when nothing matches): a scalar value itself, a mapping or list at its key.
   */
  locate(path: readonly PathKey[], atKey = false): Position & { exact: boolean } {
    const found = this.walk(path);
    const exact = found.depth === path.length;
    const valueFirst = found.node && (isScalar(found.node) || !found.key) && !(atKey && exact && found.key);
    const target = valueFirst ? found.node : (found.key ?? found.node);
    const offset = target?.range?.[0];
    if (offset === undefined) return { line: 1, column: 1, exact };
    const [line, column] = this.at(offset);
    return { line, column, exact };
  }

  private at(offset: number): [number, number] {
    const p = this.lines.linePos(offset);
    return [p.line, p.col];
  }

  private walk(path: readonly PathKey[]): { node: Node | null; key: Node | null; depth: number } {
    let node: unknown = this.doc.contents;
    let key: Node | null = null;
    let depth = 0;
    for (const seg of path) {
      if (isAlias(node)) node = node.resolve(this.doc);
      let next: unknown;
      let nextKey: Node | null = null;
      if (isMap(node)) {
        const pair = node.items.find((p) => keyText(p.key) === String(seg));
        if (!pair) break;
        next = pair.value;
        nextKey = isScalar(pair.key) ? pair.key : null;
      } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
        next = node.items[seg];
      } else break;
      node = next;
      key = nextKey;
      depth++;
    }
    return { node: isNodeLike(node) ? node : null, key, depth };
  }
}

function keyText(k: unknown): string {
  return isScalar(k) ? String(k.value) : String(k);
}

function isNodeLike(v: unknown): v is Node {
  return isScalar(v) || isMap(v) || isSeq(v) || isAlias(v);
}

function firstLine(s: string): string {
  return s.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}
