import { z } from 'zod';
import type { SpecIssue } from '../errors.js';
import { dotted, type PathKey, type Position } from './source.js';

/** A problem found in the stack file, before it is given a file position. */
export interface Finding {
  /** Logical path reported to the user. */
  path: PathKey[];
  message: string;
  /** Point at the key rather than its value (unknown keys, bad names). */
  key?: boolean;
}

export type Locator = (path: PathKey[], key: boolean) => Position;

/** Give findings their file positions; sorted by line, duplicates dropped. */
export function toIssues(file: string, findings: Finding[], locate: Locator): SpecIssue[] {
  const seen = new Set<string>();
  const out: SpecIssue[] = [];
  for (const f of findings) {
    const { line, column } = locate(f.path, f.key === true);
    const issue = { file, line, column, path: dotted(f.path), message: f.message };
    const id = `${issue.path}\u0000${issue.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(issue);
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Turn zod issues of `schema` (validated at `prefix`) into findings that say what is allowed. */
export function fromZod(schema: z.ZodType, issues: readonly z.core.$ZodIssue[], prefix: PathKey[]): Finding[] {
  const out: Finding[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is PathKey => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(schemaAt(schema, path));
      const where = path.length || prefix.length ? dotted([...prefix, ...path]) : 'the top level';
      for (const key of issue.keys) {
        out.push({ path: [...prefix, ...path, key], key: true, message: `unknown key "${key}"; allowed keys at ${where}: ${known.join(', ')}` });
      }
      continue;
    }
    out.push({ path: [...prefix, ...path], key: issue.code === 'invalid_key', message: describeIssue(issue, path) });
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue, path: PathKey[]): string {
  const input = 'input' in issue ? issue.input : undefined;
  const got = showInput(input, path);
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) return `is required (${article(issue.expected)})`;
      return `must be ${article(issue.expected)}, got ${typeof input === 'string' && shown(path) ? `the string ${quoted(input)}` : kindOfValue(input)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}${got}`;
    case 'invalid_format':
    case 'custom':
      return (issue.message.startsWith('must') ? issue.message : `is invalid: ${issue.message}`) + got;
    case 'too_small':
      return bound('at least', issue.origin, issue.minimum, issue.inclusive);
    case 'too_big':
      return bound('at most', issue.origin, issue.maximum, issue.inclusive);
    case 'invalid_key':
      return `invalid name "${String(path[path.length - 1])}": ${issue.issues.map((i) => i.message).join('; ')}`;
    case 'invalid_union':
      return issue.message.startsWith('must') ? issue.message : 'does not match any allowed form';
    default:
      return issue.message;
  }
}

function bound(word: string, origin: string, limit: number | bigint, inclusive?: boolean): string {
  const n = Number(limit);
  if (origin === 'string') return n === 1 && word === 'at least' ? 'must not be empty' : `must be ${word} ${n} characters long`;
  if (origin === 'array') return `must have ${word} ${n} item${n === 1 ? '' : 's'}`;
  const op = word === 'at least' ? (inclusive === false ? '>' : '>=') : inclusive === false ? '<' : '<=';
  return `must be ${op} ${n}`;
}

const ARTICLES: Record<string, string> = {
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
};

function article(expected: string): string {
  return ARTICLES[expected] ?? expected;
}

function kindOfValue(v: unknown): string {
  if (v === null) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number' && !Number.isInteger(v)) return `a fraction (${v})`;
  return typeof v === 'string' ? `a string` : `${typeof v} ${String(v)}`;
}

/** Values under env and settings may be sensitive: never echoed. */
function shown(path: PathKey[]): boolean {
  return !path.includes('env') && !path.includes('settings');
}

function quoted(v: string): string {
  return `"${v.length > 40 ? v.slice(0, 40) + '…' : v}"`;
}

function showInput(v: unknown, path: PathKey[]): string {
  if (!shown(path)) return '';
  if (typeof v === 'number') return ` (got ${v})`;
  return typeof v === 'string' ? ` (got ${quoted(v)})` : '';
}

/** The sub-schema that validates the value at `path` (through optional, arrays, records, unions, pipes). */
export function schemaAt(schema: z.ZodType, path: readonly PathKey[]): z.ZodType | null {
  let cur: z.ZodType | null = unwrap(schema);
  for (const seg of path) {
    if (!cur) return null;
    if (cur instanceof z.ZodObject) cur = (cur.shape as Record<string, z.ZodType>)[String(seg)] ?? null;
    else if (cur instanceof z.ZodArray) cur = cur.element as z.ZodType;
    else if (cur instanceof z.ZodRecord) cur = cur.valueType as z.ZodType;
    else if (cur instanceof z.ZodUnion) cur = (cur.options as z.ZodType[]).map((o) => schemaAt(o, [seg])).find((s) => s) ?? null;
    else return null;
    cur = cur ? unwrap(cur) : null;
  }
  return cur;
}

function unwrap(s: z.ZodType): z.ZodType {
  let cur = s;
  for (;;) {
    if (cur instanceof z.ZodOptional || cur instanceof z.ZodNullable || cur instanceof z.ZodDefault) cur = cur.unwrap() as z.ZodType;
    else if (cur instanceof z.ZodPipe) cur = cur.in as z.ZodType;
    else if (cur instanceof z.ZodLazy) cur = cur.unwrap() as z.ZodType;
    else return cur;
  }
}

/** Keys an object schema allows, in declaration order. */
export function knownKeys(schema: z.ZodType | null): string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}
