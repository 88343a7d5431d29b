import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';

/**
 * A log line's engine timestamp (RFC 3339 with up to 9 fraction digits) as a
 * string that sorts in time order: `<epoch seconds>.<9 digits>`.
 */
export function sortableTime(ts: string): string | null {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(ts);
  if (!m) return null;
  const secs = Math.floor(Date.parse(`${m[1]}Z`) / 1000);
  return `${String(secs).padStart(12, '0')}.${(m[2] ?? '').padEnd(9, '0')}`;
}

/** Where a pump remembers the time of the last line it wrote, so a later pump (a restarted agent) resumes there. */
const sinceFile = (logFile: string): string => `${logFile}.since`;

function readSince(logFile: string): string | null {
  try {
    return readFileSync(sinceFile(logFile), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/**
 * Copies a container's output from the engine into the instance's log file
 * (the file `symphony logs` reads), line by line without the engine's
 * timestamps. Resumes after the last line a previous pump wrote, so an agent
 * restart neither loses nor repeats lines the engine still holds.
 */
export class LogPump {
  readonly done: Promise<void>;
  private last: string | null;
  private lastSaved: string | null;
  private saveTimer: NodeJS.Timeout | undefined;
  private stream: NodeJS.ReadableStream | null = null;

  constructor(
    private readonly container: Dockerode.Container,
    private readonly logFile: string,
  ) {
    this.last = readSince(logFile);
    this.lastSaved = this.last;
    this.done = this.run().catch(() => undefined);
  }

  /** Stop following (the agent closes); the position is saved. */
  close(): void {
    (this.stream as unknown as { destroy?: () => void } | null)?.destroy?.();
  }

  private async run(): Promise<void> {
    mkdirSync(dirname(this.logFile), { recursive: true });
    const since = this.last ? Number(this.last.split('.')[0]) : 0;
    const stream = (await this.container.logs({ follow: true, stdout: true, stderr: true, timestamps: true, since })) as unknown as NodeJS.ReadableStream;
    this.stream = stream;
    const fd = openSync(this.logFile, 'a', 0o600);
    const out = new PassThrough();
    let partial = '';
    out.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      let text = '';
      for (const line of lines) text += this.accept(line);
      if (text) writeSync(fd, text);
      this.scheduleSave();
    });
    this.container.modem.demuxStream(stream, out, out);
    await new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    if (partial) writeSync(fd, this.accept(partial));
    closeSync(fd);
    this.save();
  }

  /** The text to write for one engine line, or '' when a previous pump already wrote it. */
  private accept(line: string): string {
    const space = line.indexOf(' ');
    const at = space > 0 ? sortableTime(line.slice(0, space)) : null;
    if (!at) return line + '\n';
    if (this.last && at <= this.last) return '';
    this.last = at;
    return line.slice(space + 1) + '\n';
  }

  private scheduleSave(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.save();
    }, 500);
    this.saveTimer.unref();
  }

  private save(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    if (!this.last || this.last === this.lastSaved) return;
    writeFileSync(sinceFile(this.logFile), this.last + '\n', { mode: 0o600 });
    this.lastSaved = this.last;
  }
}
