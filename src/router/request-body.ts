import type { Socket } from 'node:net';
import { ChunkedCursor } from './chunked.js';

/** The client side as a request body needs it: flow control of the client socket. */
export interface BodySource {
  pause(): void;
  resume(): void;
}

/**
 * The body of one request, as framed bytes (content-length or chunked, passed on as sent).
 * Bytes that arrive before the upstream connection is up are held (and the client paused),
 * so a refused connect can be retried elsewhere with the body intact.
 */
export class RequestBody {
  /** Content-length bytes still to come; unused when chunked. */
  private left: number;
  private readonly cursor: ChunkedCursor | null;
  private held: Buffer[] = [];
  private target: Socket | null = null;
  done: boolean;
  bad = false;

  constructor(length: number, private readonly source: BodySource) {
    this.left = length > 0 ? length : 0;
    this.cursor = length === -1 ? new ChunkedCursor() : null;
    this.done = length === 0;
  }

  /** Take the body's bytes from `chunk`; returns the bytes after the body (the next request), or null. */
  feed(chunk: Buffer): Buffer | null {
    if (this.done) return chunk;
    let end: number;
    if (this.cursor !== null) {
      end = this.cursor.advance(chunk);
      if (this.cursor.bad) {
        this.bad = true;
        end = chunk.length;
      }
      this.done = this.cursor.done;
    } else {
      end = Math.min(chunk.length, this.left);
      this.left -= end;
      this.done = this.left === 0;
    }
    if (end > 0) this.send(end === chunk.length ? chunk : chunk.subarray(0, end));
    return end < chunk.length ? chunk.subarray(end) : null;
  }

  private send(part: Buffer): void {
    const target = this.target;
    if (target === null) {
      this.held.push(part);
      this.source.pause();
      return;
    }
    if (!target.write(part)) {
      this.source.pause();
      target.once('drain', () => this.source.resume());
    }
  }

  /** The upstream connection is up: send what is held, then pass bytes on as they come. */
  pipeTo(target: Socket): void {
    this.target = target;
    const held = this.held;
    this.held = [];
    let ok = true;
    for (const part of held) ok = target.write(part);
    if (ok) this.source.resume();
    else target.once('drain', () => this.source.resume());
  }

  /** The upstream connection failed before the body went out whole: keep its bytes for the next attempt. */
  detach(): void {
    this.target = null;
  }
}
