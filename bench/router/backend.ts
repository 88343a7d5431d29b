import { createServer } from 'node:http';

/**
 * The small backend every target of the router bench forwards to: a fixed
 * 13-byte body, keep-alive. Run as its own process: `node --import tsx bench/router/backend.ts <port>`.
 */
const port = Number(process.argv[2]);
const body = Buffer.from('hello, world\n');
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
