/**
 * Positions in a SQL text. libpg-query reports statement locations as UTF-8
 * byte offsets and syntax-error cursors as character offsets; findings carry
 * 1-based lines and character columns.
 */
export class SqlSource {
  private readonly bytes: Buffer;
  /** Byte offset at which each line starts. */
  private readonly lineStarts: number[] = [0];

  constructor(readonly text: string) {
    this.bytes = Buffer.from(text, 'utf8');
    for (let i = 0; i < this.bytes.length; i++) if (this.bytes[i] === 0x0a) this.lineStarts.push(i + 1);
  }

  get byteLength(): number {
    return this.bytes.length;
  }

  /** Text between two byte offsets. */
  slice(startByte: number, endByte: number): string {
    return this.bytes.subarray(startByte, endByte).toString('utf8');
  }

  /** 1-based line and character column of a byte offset. */
  positionOfByte(byte: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= byte) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: this.slice(this.lineStarts[lo], byte).length + 1 };
  }

  /** 1-based line and column of a 0-based character offset. */
  positionOfChar(char: number): { line: number; column: number } {
    return this.positionOfByte(Buffer.byteLength(this.text.slice(0, Math.max(0, char)), 'utf8'));
  }

  /** The text of the 1-based line. */
  lineText(line: number): string {
    const start = this.lineStarts[line - 1] ?? this.bytes.length;
    const end = this.lineStarts[line] ?? this.bytes.length;
    return this.slice(start, end).replace(/\r?\n$/, '');
  }

  /** Move past whitespace and comments (`--`, nested `/* *\/`) from a byte offset; returns the next token's byte offset. */
  skipTrivia(fromByte: number, toByte: number): number {
    const rest = this.slice(fromByte, toByte);
    let i = 0;
    while (i < rest.length) {
      if (/\s/.test(rest[i])) i++;
      else if (rest.startsWith('--', i)) {
        const nl = rest.indexOf('\n', i);
        i = nl < 0 ? rest.length : nl + 1;
      } else if (rest.startsWith('/*', i)) {
        let depth = 0;
        do {
          if (rest.startsWith('/*', i)) { depth++; i += 2; }
          else if (rest.startsWith('*/', i)) { depth--; i += 2; }
          else i++;
        } while (depth > 0 && i < rest.length);
      } else break;
    }
    return fromByte + Buffer.byteLength(rest.slice(0, i), 'utf8');
  }
}

const DIRECTIVE = /--[ \t]*symphony-lint-ignore:[ \t]*([a-z0-9_, \t-]+)/gi;

/**
 * Rule names silenced by `-- symphony-lint-ignore: rule-a, rule-b` comments in
 * `gap` (the whitespace and comments between the previous statement and this
 * one), ignoring a comment that shares a line with the previous statement.
 */
export function ignoredRules(gap: string, skipFirstLine: boolean): Set<string> {
  const out = new Set<string>();
  const body = skipFirstLine ? gap.slice(gap.indexOf('\n') < 0 ? gap.length : gap.indexOf('\n')) : gap;
  for (const m of body.matchAll(DIRECTIVE)) {
    for (const name of m[1].split(/[ \t,]+/)) if (name) out.add(name.toLowerCase());
  }
  return out;
}
