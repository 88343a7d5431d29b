import { connect, type Socket } from 'node:net';

/**
 * An open-loop, evenly paced HTTP/1.1 load: `rate` GETs per second spread
 * evenly over time (request k is due at start + k/rate), on `connections`
 * keep-alive connections. Latency is counted from the request's due time to
 * the end of its response, so a request that waits for a free connection
 * counts its wait (no coordinated omission).
 *
 * autocannon's `overallRate` releases each connection's quota at the start of
 * every second, so at "half the max rate" its requests come in bursts at full
 * speed and measure a saturated proxy; this is what "at a rate" means instead.
 * Raw sockets keep the generator's own CPU per request small and equal for
 * every target. Responses must carry Content-Length (the bench backend does).
 */
export interface PacedResult {
  sent: number;
  completed: number;
  failures: number;
  /** Latencies in ms, sorted. */
  latencies: number[];
}

interface Conn {
  socket: Socket;
  buf: Buffer;
  /** Due time (ms, performance.now) of the request in flight, or null when idle. */
  due: number | null;
}

const REQUEST = (port: number): Buffer => Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);

/** Bytes of one whole response at the start of `buf`, or 0 when not all of it is there yet. */
function responseLength(buf: Buffer): number {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return 0;
  const head = buf.toString('latin1', 0, end);
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (!m) throw new Error(`paced load: a response without Content-Length: ${head.split('\r\n')[0]}`);
  const total = end + 4 + Number(m[1]);
  return buf.length >= total ? total : 0;
}

export async function pacedLoad(o: { port: number; connections: number; rate: number; seconds: number }): Promise<PacedResult> {
  const request = REQUEST(o.port);
  const latencies: number[] = [];
  const waiting: number[] = [];
  let non2xx = 0;
  let sent = 0;
  const conns: Conn[] = await Promise.all(
    Array.from({ length: o.connections }, () => new Promise<Conn>((resolve, reject) => {
      const socket = connect(o.port, '127.0.0.1', () => resolve(c));
      socket.setNoDelay(true);
      const c: Conn = { socket, buf: Buffer.alloc(0), due: null };
      socket.once('error', reject);
    })),
  );
  const idle: Conn[] = [...conns];
  const send = (c: Conn, due: number): void => {
    c.due = due;
    c.socket.write(request);
  };
  for (const c of conns) {
    c.socket.removeAllListeners('error');
    // A connection that fails leaves its responses missing: counted as failures at the end.
    c.socket.on('error', () => undefined);
    c.socket.on('data', (chunk: Buffer) => {
      c.buf = c.buf.length === 0 ? chunk : Buffer.concat([c.buf, chunk]);
      for (let n = responseLength(c.buf); n > 0; n = responseLength(c.buf)) {
        if (c.buf[9] !== 0x32) non2xx++;
        c.buf = c.buf.subarray(n);
        if (c.due !== null) latencies.push(performance.now() - c.due);
        c.due = null;
        const next = waiting.shift();
        if (next !== undefined) send(c, next);
        else idle.push(c);
      }
    });
  }
  const start = performance.now() + 5;
  const total = Math.round(o.rate * o.seconds);
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const dueCount = Math.min(total, Math.floor(((performance.now() - start) / 1000) * o.rate) + 1);
      for (; sent < dueCount; sent++) {
        const due = start + (sent * 1000) / o.rate;
        const c = idle.pop();
        if (c) send(c, due);
        else waiting.push(due);
      }
      if (sent >= total) {
        clearInterval(tick);
        resolve();
      }
    }, 1);
  });
  const deadline = performance.now() + 5000;
  while (latencies.length < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  for (const c of conns) c.socket.destroy();
  latencies.sort((a, b) => a - b);
  return { sent, completed: latencies.length, failures: non2xx + (total - latencies.length), latencies };
}
