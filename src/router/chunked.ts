/**
 * Follows chunked framing over a byte stream without copying: where the body ends,
 * and whether the stream is between two chunks (a graceful place to stop).
 */
export class ChunkedCursor {
  /** 0: size line; 1: size line extension; 2: LF after size; 3: data; 4: CR after data; 5: LF after data; 6: trailers; 7: done */
  private state = 0;
  private size = 0;
  private remaining = 0;
  private digits = 0;
  private trailerLineLen = 0;
  bad = false;

  get done(): boolean {
    return this.state === 7;
  }

  /** Between chunks: a terminating chunk may be written here. */
  get atBoundary(): boolean {
    return this.state === 0 && this.digits === 0;
  }

  /**
   * Walk over `chunk` from `from`; returns the offset just past the end of the body when
   * it ends inside the chunk, else `chunk.length`. With `stopAtBoundary`, stops at the first boundary.
   */
  advance(chunk: Buffer, from = 0, stopAtBoundary = false): number {
    let i = from;
    const n = chunk.length;
    while (i < n && this.state !== 7) {
      if (stopAtBoundary && this.atBoundary) return i;
      const c = chunk[i];
      switch (this.state) {
        case 0: {
          const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (d >= 0 && this.digits < 12) {
            this.size = this.size * 16 + d;
            this.digits++;
          } else if (this.digits > 0 && (c === 59 || c === 32 || c === 9)) this.state = 1;
          else if (this.digits > 0 && c === 13) this.state = 2;
          else return this.fail(n);
          i++;
          break;
        }
        case 1:
          if (c === 13) this.state = 2;
          i++;
          break;
        case 2:
          if (c !== 10) return this.fail(n);
          i++;
          this.digits = 0;
          if (this.size === 0) {
            this.state = 6;
            this.trailerLineLen = 0;
          } else {
            this.remaining = this.size;
            this.state = 3;
          }
          this.size = 0;
          break;
        case 3: {
          const take = Math.min(this.remaining, n - i);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.state = 4;
          break;
        }
        case 4:
          if (c !== 13) return this.fail(n);
          this.state = 5;
          i++;
          break;
        case 5:
          if (c !== 10) return this.fail(n);
          this.state = 0;
          i++;
          break;
        case 6:
          i++;
          if (c === 10) {
            if (this.trailerLineLen === 0) this.state = 7;
            this.trailerLineLen = 0;
          } else if (c !== 13) this.trailerLineLen++;
          break;
      }
    }
    return this.state === 7 ? i : n;
  }

  private fail(n: number): number {
    this.bad = true;
    return n;
  }
}
