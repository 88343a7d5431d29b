import { randomBytes } from 'node:crypto';

/** Close frame 1001 (going away) from server to client: unmasked. */
export const CLOSE_TO_CLIENT = Buffer.from([0x88, 0x02, 0x03, 0xe9]);

/** Close frame 1001 from client to server: masked, as RFC 6455 requires. */
export function closeToServer(): Buffer {
  const mask = randomBytes(4);
  return Buffer.from([0x88, 0x82, mask[0], mask[1], mask[2], mask[3], 0x03 ^ mask[0], 0xe9 ^ mask[1]]);
}

/**
 * Follows WebSocket frame boundaries in a byte stream without copying payloads,
 * so the router can insert a close frame between two frames, never inside one.
 */
export class FrameCursor {
  private readonly head = Buffer.alloc(14);
  private headLen = 0;
  private remaining = 0;

  get atBoundary(): boolean {
    return this.headLen === 0 && this.remaining === 0;
  }

  /**
   * Walk over `chunk`. With `stopAtBoundary`, stop at the first frame boundary and
   * return its offset (0 when already at one); otherwise return `chunk.length`.
   */
  advance(chunk: Buffer, stopAtBoundary: boolean): number {
    let i = 0;
    while (i < chunk.length) {
      if (stopAtBoundary && this.atBoundary) return i;
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        continue;
      }
      this.head[this.headLen++] = chunk[i++];
      if (this.headLen < 2) continue;
      const len7 = this.head[1] & 0x7f;
      const need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (this.head[1] & 0x80 ? 4 : 0);
      if (this.headLen < need) continue;
      this.remaining = len7 === 126 ? this.head.readUInt16BE(2) : len7 === 127 ? Number(this.head.readBigUInt64BE(2)) : len7;
      this.headLen = 0;
    }
    return i;
  }
}

/** Finds the end of an HTTP response head (`\r\n\r\n`) across chunks. */
export class HeadEnd {
  private matched = 0;
  /** Status code of the head, once its first line was seen. */
  status = 0;
  private first = '';

  /** Offset just past the head in `chunk`, or -1 when the head goes on. */
  find(chunk: Buffer): number {
    if (this.status === 0 && this.first.length < 16) {
      this.first += chunk.subarray(0, 16).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(this.first);
      if (m) this.status = Number(m[1]);
    }
    const pattern = [13, 10, 13, 10];
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] === pattern[this.matched]) {
        this.matched++;
        if (this.matched === 4) return i + 1;
      } else {
        this.matched = chunk[i] === 13 ? 1 : 0;
      }
    }
    return -1;
  }
}
