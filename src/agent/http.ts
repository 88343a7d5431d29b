import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeError, SymphonyError } from '../errors.js';

export type Handler = (req: IncomingMessage, body: unknown, url: URL, res: ServerResponse) => Promise<unknown>;

export interface Route {
  method: string;
  pattern: RegExp;
  handler: (match: RegExpMatchArray, req: IncomingMessage, body: unknown, url: URL, res: ServerResponse) => Promise<unknown>;
}

const STATUS: Record<string, number> = { lock_held: 409, plan_stale: 409, not_found: 404, spec_invalid: 400 };

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : null;
}

/** A tiny JSON router for the agent's control API. Errors become `{code, error, hint}` bodies. */
export function jsonApi(routes: Route[]) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://agent');
    try {
      const route = routes.find((r) => r.method === req.method && r.pattern.test(url.pathname));
      if (!route) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'not_found', error: `no such endpoint ${req.method} ${url.pathname}` }));
        return;
      }
      const body = req.method === 'GET' ? null : await readBody(req);
      const out = await route.handler(url.pathname.match(route.pattern)!, req, body, url, res);
      if (!res.headersSent) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out ?? {}));
    } catch (err) {
      const status = err instanceof SymphonyError ? (STATUS[err.code] ?? 422) : 500;
      if (!res.headersSent) res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(describeError(err)));
      else res.end();
    }
  };
}
