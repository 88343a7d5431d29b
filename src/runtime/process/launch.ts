import type { InstanceSpec } from '../types.js';

/** Environment variables stamped on every instance so a restarted agent can find it again. */
export const STAMP = {
  scope: 'SYMPHONY_SCOPE',
  instance: 'SYMPHONY_INSTANCE',
  service: 'SYMPHONY_SERVICE',
  release: 'SYMPHONY_RELEASE',
} as const;

const INHERITED = ['PATH', 'HOME', 'LANG', 'TZ'] as const;

/**
 * The few variables of the caller that every instance (and exec probe) gets:
 * PATH, HOME, LANG and TZ when set. Nothing else of the agent leaks through.
 */
export function baseEnv(from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of INHERITED) {
    const value = from[key];
    if (value !== undefined) env[key] = value;
  }
  if (env.PATH === undefined) env.PATH = '/usr/local/bin:/usr/bin:/bin';
  return env;
}

/**
 * The full environment of an instance: base, then the spec's env, then PORT,
 * then the stamps (last, so a spec cannot forge another instance's identity).
 */
export function instanceEnv(scope: string, spec: InstanceSpec, from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = { ...baseEnv(from), ...spec.env };
  if (spec.port !== undefined) env.PORT = String(spec.port);
  env[STAMP.scope] = scope;
  env[STAMP.instance] = spec.id;
  env[STAMP.service] = spec.service;
  env[STAMP.release] = spec.release;
  return env;
}

const SHELL_WORDS = new Set([
  '.', '!', '{', 'alias', 'case', 'cd', 'command', 'eval', 'exec', 'exit', 'export', 'for', 'function',
  'if', 'read', 'set', 'shift', 'source', 'time', 'trap', 'ulimit', 'umask', 'unset', 'until', 'wait', 'while',
]);

/**
 * The line handed to `/bin/sh -c`. A simple command (one program and its
 * arguments, no `;`, `&`, `|`, subshell or leading assignment or builtin) is
 * prefixed with `exec`, so the instance's pid is the program itself rather
 * than a shell waiting for it (dash does not do this on its own). Anything
 * else runs as written; stopping works either way because the whole process
 * group is signalled.
 */
export function launchCommand(command: string): string {
  const line = command.trim();
  const first = line.split(/\s+/)[0] ?? '';
  const operators = line.replace(/\d*[<>]&[\d-]*/g, '');
  if (!first || /[;&|()`\n]/.test(operators) || first.includes('=') || SHELL_WORDS.has(first)) return command;
  return `exec ${line}`;
}
