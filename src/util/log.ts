import { pino, type Logger } from 'pino';

/**
 * The one logger. JSON lines to the given destination (a file path or stderr). `mkdir: false`
 * for a process that must not bring back a directory someone deleted.
 */
export function createLogger(name: string, file?: string, opts: { mkdir?: boolean } = {}): Logger {
  const dest = file ? pino.destination({ dest: file, mkdir: opts.mkdir ?? true, sync: false }) : pino.destination(2);
  return pino({ name, level: process.env.SYMPHONY_LOG_LEVEL ?? 'info', redact: ['*.password', '*.secret', 'env'] }, dest);
}

export type { Logger };
