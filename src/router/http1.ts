/**
 * Just enough HTTP/1.1 for the router's fast path: read message heads straight from the
 * received bytes (no header objects, no strings but the few values routing needs) and say
 * which byte ranges go on unchanged. Anything unusual is refused here (null): the caller
 * hands such a request to node:http, or answers 502 for such a response.
 */

/** Largest request or response head the fast path reads (Node's default limit). */
export const MAX_HEAD = 16 * 1024;

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Offset just past the blank line ending the head, or -1 when the head is not complete. */
export function headEnd(buf: Buffer): number {
  const at = buf.indexOf(CRLFCRLF);
  return at === -1 ? -1 : at + 4;
}

/** tchar of RFC 9110, by byte. */
const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TOKEN[c.charCodeAt(0)] = 1;

/** `buf[at..]` equals the lower-case ASCII `name`, ignoring case. */
function nameIs(buf: Buffer, at: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) if ((buf[at + i] | 0x20) !== name.charCodeAt(i)) return false;
  return true;
}

/** Header lines of a head: [start, colon, end) triples, `end` at the line's CR. */
interface Lines {
  /** End of the first line (at its CR). */
  first: number;
  /** start, colon, end of each header line. */
  at: number[];
}

/** Split a head `buf[0..end)` (end: just past CRLFCRLF) into lines; null on bare CR/LF, control bytes or a bad name. */
function scanLines(buf: Buffer, end: number): Lines | null {
  const stop = end - 2;
  let first = -1;
  const at: number[] = [];
  let start = 0;
  let colon = -1;
  for (let i = 0; i < stop; i++) {
    const c = buf[i];
    if (c === 13) {
      if (buf[i + 1] !== 10) return null;
      if (first === -1) first = i;
      else {
        if (colon === -1) return null;
        at.push(start, colon, i);
      }
      i++;
      start = i + 1;
      colon = -1;
    } else if (c === 10 || c === 0 || c === 127) return null;
    else if (first !== -1 && colon === -1) {
      if (c === 58 /* : */ && i > start) colon = i;
      else if (TOKEN[c] === 0) return null;
    }
  }
  return first === -1 ? null : { first, at };
}

/** A header value without surrounding whitespace. */
function valueOf(buf: Buffer, colon: number, end: number): string {
  let s = colon + 1;
  let e = end;
  while (s < e && (buf[s] === 32 || buf[s] === 9)) s++;
  while (e > s && (buf[e - 1] === 32 || buf[e - 1] === 9)) e--;
  return buf.toString('latin1', s, e);
}

/** A parsed request head. `keep` are byte ranges of the head to send on as they are. */
export interface RequestHead {
  method: string;
  url: string;
  host: string | undefined;
  cookie: string | undefined;
  /** -1: chunked; 0: no body; n: content-length n. */
  bodyLength: number;
  /** Client asked to close the connection after this exchange. */
  close: boolean;
  xff: string;
  /** Flat [start, end) pairs of `buf`: request line and forwarded header lines, each with its CRLF. */
  keep: number[];
  buf: Buffer;
}

/**
 * Parse the request head `buf[0..end)`. Returns null for anything the fast path leaves
 * to node:http: other HTTP versions, upgrades, Expect, odd framing, odd syntax.
 */
export function parseRequestHead(buf: Buffer, end: number): RequestHead | null {
  const lines = scanLines(buf, end);
  if (lines === null) return null;
  const line = buf.toString('latin1', 0, lines.first);
  const sp1 = line.indexOf(' ');
  const sp2 = line.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 <= sp1 + 1 || line.length !== sp2 + 9 || !line.endsWith(' HTTP/1.1')) return null;
  const url = line.slice(sp1 + 1, sp2);
  if (url.charCodeAt(0) !== 47 /* / */) return null;
  for (let i = 0; i < sp1; i++) if (TOKEN[buf[i]] === 0) return null;
  const head: RequestHead = { method: line.slice(0, sp1), url, host: undefined, cookie: undefined, bodyLength: 0, close: false, xff: '', keep: [], buf };
  let named: string[] | null = null;
  let lengthSeen = false;
  let chunked = false;
  const at = lines.at;
  let dropped: boolean[] | null = null;
  const drop = (i: number): void => {
    (dropped ??= [])[i / 3] = true;
  };
  for (let i = 0; i < at.length; i += 3) {
    const s = at[i];
    const colon = at[i + 1];
    switch (colon - s) {
      case 4:
        if (!nameIs(buf, s, 'host')) break;
        if (head.host !== undefined) return null;
        head.host = valueOf(buf, colon, at[i + 2]);
        break;
      case 14: {
        if (!nameIs(buf, s, 'content-length')) break;
        const value = valueOf(buf, colon, at[i + 2]);
        if (lengthSeen || !/^\d{1,15}$/.test(value)) return null;
        lengthSeen = true;
        head.bodyLength = Number(value);
        break;
      }
      case 17:
        if (nameIs(buf, s, 'transfer-encoding')) {
          if (chunked || valueOf(buf, colon, at[i + 2]).toLowerCase() !== 'chunked') return null;
          chunked = true;
        } else if (nameIs(buf, s, 'x-forwarded-proto')) drop(i);
        break;
      case 10:
        if (nameIs(buf, s, 'connection')) {
          named = readConnection(valueOf(buf, colon, at[i + 2]), head, named);
          if (named === UPGRADE) return null;
          drop(i);
        } else if (nameIs(buf, s, 'keep-alive')) drop(i);
        break;
      case 15: {
        if (!nameIs(buf, s, 'x-forwarded-for')) break;
        const xff = valueOf(buf, colon, at[i + 2]);
        head.xff = head.xff === '' ? xff : `${head.xff}, ${xff}`;
        drop(i);
        break;
      }
      case 6:
        if (nameIs(buf, s, 'cookie')) {
          const cookie = valueOf(buf, colon, at[i + 2]);
          head.cookie = head.cookie === undefined ? cookie : `${head.cookie}; ${cookie}`;
        } else if (nameIs(buf, s, 'expect')) return null;
        break;
      case 7:
        if (nameIs(buf, s, 'upgrade')) return null;
        break;
      case 16:
        if (nameIs(buf, s, 'proxy-connection') || nameIs(buf, s, 'x-forwarded-host')) drop(i);
        break;
      case 2:
        if (nameIs(buf, s, 'te')) drop(i);
        break;
    }
  }
  if (head.host === undefined || (chunked && lengthSeen)) return null;
  if (chunked) head.bodyLength = -1;
  if (named !== null) {
    for (let i = 0; i < at.length; i += 3) if (named.includes(buf.toString('latin1', at[i], at[i + 1]).toLowerCase())) drop(i);
  }
  head.keep = keepRanges(at, dropped, end);
  return head;
}

/** Byte ranges of the head without the dropped lines (the request line is always kept). */
function keepRanges(at: number[], dropped: boolean[] | null, end: number): number[] {
  if (dropped === null) return [0, end - 2];
  const keep: number[] = [];
  let from = 0;
  for (let i = 0; i < at.length; i += 3) {
    if (dropped[i / 3] !== true) continue;
    if (at[i] > from) keep.push(from, at[i]);
    from = at[i + 2] + 2;
  }
  if (from < end - 2) keep.push(from, end - 2);
  return keep;
}

const UPGRADE: string[] = [];

/** Read a Connection header: sets `close`; returns the other header names it lists, or UPGRADE. */
function readConnection(value: string, head: RequestHead, into: string[] | null): string[] | null {
  if (value === 'keep-alive' || value === 'Keep-Alive') return into;
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase();
    if (name === 'close') head.close = true;
    else if (name === 'upgrade') return UPGRADE;
    else if (name !== 'keep-alive' && name !== '') (into ??= []).push(name);
  }
  return into;
}

/** A parsed response head: what the client is sent, and how the body is framed. */
export interface ResponseHead {
  status: number;
  /** Flat [start, end) pairs of the head's bytes to send on (status line first, each range ends with CRLF). */
  keep: number[];
  /** -1: chunked; -2: until the upstream closes; n: content-length n (0: none). */
  bodyLength: number;
  /** Headers the router adds for the client (transfer-encoding when it frames the body itself). */
  extra: string;
  /** The upstream connection cannot be reused after this response. */
  close: boolean;
  eventStream: boolean;
}

/** Parse the response head `buf[0..end)`; null when it is not valid HTTP/1.x. */
export function parseResponseHead(buf: Buffer, end: number, headRequest: boolean): ResponseHead | null {
  const lines = scanLines(buf, end);
  if (lines === null || lines.first < 12 || !nameIs(buf, 0, 'http/1.') || buf[8] !== 32) return null;
  if (lines.first > 12 && buf[12] !== 32) return null;
  const status = (buf[9] - 48) * 100 + (buf[10] - 48) * 10 + (buf[11] - 48);
  if (!(status >= 100 && status < 600) || buf[10] > 57 || buf[11] > 57) return null;
  const minor = buf[7];
  // An HTTP/1.0 status line is sent on as 1.1 (what the client talks to is the router).
  const keep: number[] = minor === 49 ? [] : [-1, -1];
  let keepFrom = minor === 49 ? 0 : 8;
  let close = minor !== 49;
  let length = -2;
  let chunked = false;
  let eventStream = false;
  const at = lines.at;
  for (let i = 0; i < at.length; i += 3) {
    const s = at[i];
    const colon = at[i + 1];
    const n = colon - s;
    let drop = false;
    if (n === 14 && nameIs(buf, s, 'content-length')) {
      const value = valueOf(buf, colon, at[i + 2]);
      if (!/^\d{1,15}$/.test(value) || (length >= 0 && Number(value) !== length)) return null;
      length = Number(value);
    } else if (n === 17 && nameIs(buf, s, 'transfer-encoding')) {
      chunked = valueOf(buf, colon, at[i + 2]).toLowerCase().endsWith('chunked');
      if (!chunked) close = true;
      drop = true;
    } else if (n === 10 && nameIs(buf, s, 'connection')) {
      if (valueOf(buf, colon, at[i + 2]).toLowerCase().includes('close')) close = true;
      drop = true;
    } else if (n === 10 && nameIs(buf, s, 'keep-alive')) {
      drop = true;
    } else if (n === 12 && nameIs(buf, s, 'content-type')) {
      eventStream = valueOf(buf, colon, at[i + 2]).startsWith('text/event-stream');
    }
    if (drop) {
      if (s > keepFrom) keep.push(keepFrom, s);
      keepFrom = at[i + 2] + 2;
    }
  }
  if (keepFrom < end - 2) keep.push(keepFrom, end - 2);
  let bodyLength = chunked ? -1 : length;
  let extra = '';
  if (headRequest || status === 204 || status === 304 || status < 200) bodyLength = 0;
  else if (chunked || length === -2) extra = 'transfer-encoding: chunked\r\n';
  return { status, keep, bodyLength, extra, close: close || bodyLength === -2, eventStream };
}

/** Copy the `keep` ranges of `src`, then `extra` (latin1), into one new buffer with `room` bytes spare at its end. */
export function assemble(src: Buffer, keep: number[], extra: string, room: number): { out: Buffer; at: number } {
  let size = extra.length + room;
  for (let i = 0; i < keep.length; i += 2) size += keep[i] === -1 ? 8 : keep[i + 1] - keep[i];
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < keep.length; i += 2) {
    if (keep[i] === -1) at += out.write('HTTP/1.1', at, 'latin1');
    else at += src.copy(out, at, keep[i], keep[i + 1]);
  }
  if (extra.length > 0) at += out.write(extra, at, 'latin1');
  return { out, at };
}
