import { createServer } from 'node:net';

/** True when nothing listens on 127.0.0.1:port (we could bind it). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A port the kernel considers free right now (bind to 0, read, close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** First free port at or above `from`, skipping `taken`. */
export async function firstFreePort(from: number, taken: Set<number>, to = from + 5000): Promise<number> {
  for (let p = from; p <= to; p++) {
    if (taken.has(p)) continue;
    if (await isPortFree(p)) return p;
  }
  throw new Error(`no free port between ${from} and ${to}`);
}

/** `count` free ports from the kernel, all different and none in `avoid`. */
export async function distinctFreePorts(count: number, avoid: Iterable<number> = []): Promise<number[]> {
  const taken = new Set(avoid);
  const out: number[] = [];
  while (out.length < count) {
    const port = await freePort();
    if (taken.has(port)) continue;
    taken.add(port);
    out.push(port);
  }
  return out;
}
