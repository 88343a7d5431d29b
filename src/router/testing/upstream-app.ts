import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { WebSocketServer } from 'ws';

/** A small real upstream for the router's tests and bench: one release's instance. */
export interface UpstreamApp {
  name: string;
  port: number;
  server: Server;
  /** Requests answered, by path without query. */
  hits: Map<string, number>;
  /** Close codes received from WebSocket clients (the router sends 1001 on closeLongLived). */
  wsCloseCodes: number[];
  close(): Promise<void>;
}

function answer(name: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://upstream');
  if (url.pathname === '/slow') {
    const ms = Number(url.searchParams.get('ms') ?? '2000');
    setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': name }).end(`${name} slow ${ms}\n`), ms);
    return;
  }
  if (url.pathname === '/sse') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-upstream': name });
    let n = 0;
    const tick = setInterval(() => res.write(`data: ${name} ${n++}\n\n`), 50);
    res.on('close', () => clearInterval(tick));
    return;
  }
  if (url.pathname === '/headers') {
    const body = JSON.stringify({ name, headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name }).end(body);
    return;
  }
  if (url.pathname === '/echo') {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-upstream': name });
    req.pipe(res);
    return;
  }
  if (url.pathname === '/fail') {
    res.writeHead(500, { 'content-type': 'text/plain', 'x-upstream': name }).end(`${name} failed on purpose\n`);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': name }).end(name);
}

/** Start an upstream named `name` on 127.0.0.1:port (0 = any); WebSocket echo on any path. */
export async function startUpstreamApp(name: string, port = 0): Promise<UpstreamApp> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    hits.set(path, (hits.get(path) ?? 0) + 1);
    answer(name, req, res);
  });
  const wss = new WebSocketServer({ server });
  const wsCloseCodes: number[] = [];
  wss.on('connection', (ws) => {
    ws.on('close', (code) => wsCloseCodes.push(code));
    ws.send(`hello from ${name}`);
    ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `${name}: ${data.toString()}`));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  const addr = server.address();
  return {
    name,
    port: typeof addr === 'object' && addr ? addr.port : port,
    server,
    hits,
    wsCloseCodes,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
