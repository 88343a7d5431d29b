import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkedCursor } from '../src/router/chunked.js';
import { assemble, headEnd, parseRequestHead, parseResponseHead } from '../src/router/http1.js';
import { backend, route, startHarness, type RouterHarness } from '../src/router/testing/harness.js';
import type { UpstreamApp } from '../src/router/testing/upstream-app.js';
import { freePort } from '../src/util/ports.js';

const req = (text: string) => {
  const buf = Buffer.from(text);
  return parseRequestHead(buf, headEnd(buf));
};
const forwarded = (text: string): string => {
  const head = req(text);
  if (head === null) throw new Error('refused');
  return assemble(head.buf, head.keep, '', 0).out.toString('latin1');
};

describe('router fast path: heads and framing', () => {
  it('forwards request lines and headers as sent, minus hop-by-hop and X-Forwarded-Proto/Host', () => {
    const text = 'GET /a?b HTTP/1.1\r\nHost: x.test\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: 5\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: https\r\nAccept: */*\r\n\r\n';
    expect(forwarded(text)).toBe('GET /a?b HTTP/1.1\r\nHost: x.test\r\nAccept: */*\r\n');
    expect(req(text)).toMatchObject({ method: 'GET', url: '/a?b', host: 'x.test', xff: '1.2.3.4', bodyLength: 0, close: false });
    expect(req('POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n')).toMatchObject({ bodyLength: -1, close: true });
    expect(req('PUT / HTTP/1.1\r\nhost: a\r\ncontent-length: 12\r\n\r\n')?.bodyLength).toBe(12);
  });

  it('leaves unusual requests to node:http (null)', () => {
    for (const text of [
      'GET / HTTP/1.0\r\nhost: a\r\n\r\n',
      'GET / HTTP/1.1\r\nhost: a\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n',
      'POST / HTTP/1.1\r\nhost: a\r\nexpect: 100-continue\r\ncontent-length: 1\r\n\r\n',
      'POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n',
      'POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n',
      'GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n',
      'GET / HTTP/1.1\r\n\r\n',
      'GET / HTTP/1.1\r\nbad name: 1\r\nhost: a\r\n\r\n',
      'GET / HTTP/1.1\r\nhost: a\nx: 1\r\n\r\n',
      'GET http://a/ HTTP/1.1\r\nhost: a\r\n\r\n',
    ]) {
      expect(req(text), text).toBeNull();
    }
  });

  it('reads response framing and drops hop-by-hop response headers', () => {
    const parse = (text: string, head = false) => {
      const buf = Buffer.from(text);
      const end = headEnd(buf);
      const r = parseResponseHead(buf, end, head);
      return r && { ...r, text: assemble(buf, r.keep, r.extra, 0).out.toString('latin1') };
    };
    const cl = parse('HTTP/1.1 200 OK\r\ncontent-length: 5\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nhello');
    expect(cl).toMatchObject({ status: 200, bodyLength: 5, close: false, text: 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n' });
    expect(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')).toMatchObject({ bodyLength: -1, text: 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n' });
    expect(parse('HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\n\r\n')).toMatchObject({ bodyLength: -2, close: true, eventStream: true, text: 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\ntransfer-encoding: chunked\r\n' });
    expect(parse('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n', true)?.bodyLength).toBe(0);
    expect(parse('HTTP/1.1 304 Not Modified\r\n\r\n')?.bodyLength).toBe(0);
    expect(parse('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')?.close).toBe(true);
    expect(parse('HTTP/1.1 2x0 OK\r\n\r\n')).toBeNull();
    expect(parse('HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n')).toBeNull();
  });

  it('follows chunked bodies split anywhere, with extensions and trailers', () => {
    const body = Buffer.from('5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nx-trailer: 1\r\n\r\nNEXT');
    for (let cut = 1; cut < body.length - 4; cut++) {
      const c = new ChunkedCursor();
      expect(c.advance(body.subarray(0, cut))).toBe(cut);
      expect(c.done).toBe(false);
      expect(c.advance(body.subarray(cut))).toBe(body.length - 4 - cut);
      expect(c.done).toBe(true);
    }
    const c = new ChunkedCursor();
    expect(c.advance(Buffer.from('3\r\nab'), 0, true)).toBe(0);
    expect(c.advance(Buffer.from('3\r\nab'))).toBe(5);
    expect(c.atBoundary).toBe(false);
    expect(c.advance(Buffer.from('c\r\n4\r\n'), 0, true)).toBe(3);
    expect(c.atBoundary).toBe(true);
    const bad = new ChunkedCursor();
    bad.advance(Buffer.from('zz\r\n'));
    expect(bad.bad).toBe(true);
  });
});

/** Raw TCP exchange: send `text`, collect what comes back until `until` matches or the socket closes. */
function raw(port: number, text: string, until: RegExp, socket?: Socket): Promise<{ data: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const s = socket ?? connect({ host: '127.0.0.1', port });
    let data = '';
    const onData = (c: Buffer): void => {
      data += c.toString('latin1');
      if (until.test(data)) done();
    };
    const done = (): void => {
      clearTimeout(timer);
      s.off('data', onData);
      resolve({ data, socket: s });
    };
    const timer = setTimeout(() => reject(new Error(`no answer matching ${until} within 5 s; got ${JSON.stringify(data)}`)), 5000);
    s.on('data', onData);
    s.once('close', done);
    s.once('error', reject);
    s.write(text);
  });
}

let h: RouterHarness;
let blue: UpstreamApp;
let rawUpstream: Server;
let rawPort: number;
const rawConnections: Socket[] = [];

beforeAll(async () => {
  h = await startHarness();
  blue = await h.app('blue');
  // An HTTP/1.0-style upstream: no length, the body ends when it closes the connection.
  rawUpstream = createServer((s) => {
    rawConnections.push(s);
    s.once('data', () => s.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil close'));
  });
  rawPort = await new Promise<number>((resolve) => rawUpstream.listen(0, '127.0.0.1', () => resolve((rawUpstream.address() as { port: number }).port)));
});
afterAll(async () => {
  await h?.close();
  await new Promise((r) => rawUpstream?.close(r));
});

describe('router fast path: connections', () => {
  it('answers pipelined requests in order on one connection, over one reused upstream connection', async () => {
    const port = await freePort();
    await h.client.setRoute(route('pipe', port, [backend('blue', 100, [blue])]));
    const upstreamPorts = new Set<number>();
    const seen = (r: { socket: Socket }): void => void upstreamPorts.add(r.socket.remotePort ?? 0);
    blue.server.on('request', seen);
    const two = 'GET /headers?n=1 HTTP/1.1\r\nHost: a\r\n\r\nGET /slow?ms=10 HTTP/1.1\r\nHost: a\r\n\r\n';
    const { data, socket } = await raw(port, two, /blue slow 10\n\r\n0\r\n\r\n$/);
    expect(data.indexOf('"name":"blue"')).toBeLessThan(data.indexOf('blue slow 10'));
    const third = await raw(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', /blue\r\n0\r\n\r\n$/, socket);
    expect(third.data).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    socket.destroy();
    blue.server.off('request', seen);
    expect(upstreamPorts.size).toBe(1);
  });

  it('frames a close-delimited upstream body as chunked and keeps the client connection', async () => {
    const port = await freePort();
    await h.client.setRoute(route('close-body', port, [backend('raw', 100, [{ port: rawPort }])]));
    const first = await raw(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', /\r\n0\r\n\r\n$/);
    expect(first.data).toMatch(/transfer-encoding: chunked\r\n/);
    expect(first.data).toContain('\r\nb\r\nuntil close\r\n0\r\n\r\n');
    const second = await raw(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', /\r\n0\r\n\r\n$/, first.socket);
    expect(second.data).toContain('until close');
    first.socket.destroy();
  });

  it('forwards a chunked request body, and hands HTTP/1.0 and Expect requests to node:http', async () => {
    const port = await freePort();
    await h.client.setRoute(route('chunked-in', port, [backend('blue', 100, [blue])]));
    const chunked = await raw(port, 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n', /$^/);
    expect(chunked.data).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(chunked.data.replace(/\r\n[0-9a-f]+\r\n/g, '')).toContain('abcde');
    const old = await raw(port, 'GET / HTTP/1.0\r\nHost: a\r\n\r\n', /$^/);
    expect(old.data).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nblue$/);
    const expect100 = await raw(port, 'POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n', /100 Continue\r\n\r\n/);
    const rest = await raw(port, 'ok', /$^/, expect100.socket);
    expect(rest.data).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*ok/);
  });

  it('sends informational responses (103 Early Hints) on before the final one', async () => {
    const port = await freePort();
    const hintsPort = await freePort();
    const sockets: Socket[] = [];
    const hints = createServer((s) => {
      sockets.push(s);
      s.on('data', () => {
        s.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n');
        setTimeout(() => s.write('HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'), 20);
      });
    });
    await new Promise<void>((r) => hints.listen(hintsPort, '127.0.0.1', () => r()));
    try {
      await h.client.setRoute(route('hints', port, [backend('hints', 100, [{ port: hintsPort }])]));
      const r = await raw(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', /\r\n\r\nok$/);
      expect(r.data).toMatch(/^HTTP\/1\.1 103 Early Hints\r\nLink: <\/a\.css>; rel=preload\r\n\r\nHTTP\/1\.1 102 Processing\r\n\r\nHTTP\/1\.1 200 OK\r\ncontent-length: 2\r\n/);
      // The connection carries on with the next request.
      const again = await raw(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', /\r\n\r\nok$/, r.socket);
      expect(again.data).toMatch(/^HTTP\/1\.1 103 /);
      r.socket.destroy();
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => hints.close(r));
    }
  });

  it('retries a GET whose reused upstream connection fails before the response, on a fresh connection', async () => {
    const port = await freePort();
    const flakyPort = await freePort();
    let used = 0;
    // Answers the first request of each connection; a second one on the same connection is cut (a keep-alive race).
    // (Connections without a request are the router's active health checks.)
    const flaky = createServer((s) => {
      let n = 0;
      s.on('data', () => {
        if (n++ === 0) used++;
        if (n === 1) s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        else s.destroy();
      });
    });
    await new Promise<void>((r) => flaky.listen(flakyPort, '127.0.0.1', () => r()));
    await h.client.setRoute(route('stale', port, [backend('flaky', 100, [{ port: flakyPort }])]));
    const first = await raw(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', /\r\n\r\nok$/);
    const second = await raw(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', /\r\n\r\nok$/, first.socket);
    expect(second.data).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(used).toBe(2);
    const post = await raw(port, 'POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 1\r\n\r\nx', /\r\n\r\n[\s\S]*$/, first.socket);
    expect(post.data).toMatch(/^HTTP\/1\.1 502 /);
    first.socket.destroy();
    await new Promise((r) => flaky.close(r));
  });
});
