import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The files whose lines leave paths out of a release's files, read in each directory; the later one wins. */
export const IGNORE_FILES = ['.gitignore', '.symphonyignore'] as const;

/** One line of an ignore file, compiled. `base` is the directory of its file, relative to the app's root. */
interface IgnoreRule {
  base: string;
  re: RegExp;
  negate: boolean;
  dirOnly: boolean;
}

/**
 * gitignore rules as git reads them: `#` comments, `!` re-includes, a
 * trailing `/` matches directories only, a pattern with a `/` elsewhere is
 * anchored to its file's directory (otherwise it matches a name at any
 * depth), `*`, `?`, `[…]` and `**`. The last matching rule wins; a path
 * inside an ignored directory is never looked at.
 */
export class IgnoreRules {
  private constructor(private readonly rules: readonly IgnoreRule[]) {}

  static readonly none = new IgnoreRules([]);

  /** These rules plus the ignore files found in `absDir` (at `relDir` under the root). */
  within(absDir: string, relDir: string): IgnoreRules {
    const added: IgnoreRule[] = [];
    for (const name of IGNORE_FILES) {
      let text: string;
      try {
        text = readFileSync(join(absDir, name), 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split(/\r?\n/)) {
        const rule = compileLine(line, relDir);
        if (rule) added.push(rule);
      }
    }
    return added.length === 0 ? this : new IgnoreRules([...this.rules, ...added]);
  }

  /** Whether the path (relative to the root, `/`-separated) is left out. */
  ignores(rel: string, isDir: boolean): boolean {
    let out = false;
    for (const r of this.rules) {
      if (r.dirOnly && !isDir) continue;
      const sub = r.base === '' ? rel : rel.startsWith(`${r.base}/`) ? rel.slice(r.base.length + 1) : null;
      if (sub !== null && r.re.test(sub)) out = !r.negate;
    }
    return out;
  }
}

function compileLine(raw: string, base: string): IgnoreRule | null {
  let line = raw.replace(/(?<!\\)\s+$/, '');
  if (line === '' || line.startsWith('#')) return null;
  let negate = false;
  if (line.startsWith('!')) {
    negate = true;
    line = line.slice(1);
  } else if (line.startsWith('\\!') || line.startsWith('\\#')) line = line.slice(1);
  const dirOnly = line.endsWith('/');
  if (dirOnly) line = line.slice(0, -1);
  const anchored = line.includes('/');
  if (line.startsWith('/')) line = line.slice(1);
  if (line === '') return null;
  const body = globToRegExp(line);
  return { base, negate, dirOnly, re: new RegExp(anchored ? `^${body}$` : `^(?:.*/)?${body}$`) };
}

function globToRegExp(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      const atStart = i === 0 || glob[i - 1] === '/';
      if (atStart && glob[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 2;
      } else if (atStart && i + 2 === glob.length) {
        out += '.*';
        i += 1;
      } else {
        out += '[^/]*';
        i += 1;
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        const inner = glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        out += `[${inner}]`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < glob.length) out += escapeChar(glob[++i]);
    else out += escapeChar(c);
  }
  return out;
}

const escapeChar = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
