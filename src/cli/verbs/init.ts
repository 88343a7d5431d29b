import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { SymphonyError } from '../../errors.js';
import { action, print, stackFile, withCommon, type GlobalOptions } from '../common.js';

const stack = (port: number): string => `# Symphony stack file. Reference: docs/stack-file.md
name: app
services:
  web:
    run: node server.mjs
    dir: ./web
    replicas: 2
    health: { http: /healthz }
routes:
  - { listen: ${port}, to: web }
`;

const SERVER = `import { createServer } from 'node:http';
const server = createServer((req, res) => {
  if (req.url === '/healthz') return res.end('ok');
  res.end('hello from ' + process.env.SYMPHONY_INSTANCE + '\\n');
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

interface InitOptions extends GlobalOptions {
  port: string;
}

export function registerInit(program: Command): void {
  withCommon(program.command('init').description('write a starter stack file and a tiny app next to it'))
    .option('--port <n>', 'port the route listens on', '8080')
    .action(
      action(async (o: InitOptions) => {
        const port = Number(o.port);
        if (!Number.isInteger(port) || port < 1 || port > 65535) throw new SymphonyError(`--port wants a port number from 1 to 65535, not ${o.port}`, 'symphony init --port 8081');
        const file = stackFile(o);
        if (existsSync(file)) throw new SymphonyError(`${file} already exists; init never overwrites`, 'edit it, or run symphony init -f <other file>');
        const web = join(dirname(file), 'web');
        mkdirSync(web, { recursive: true });
        if (!existsSync(join(web, 'server.mjs'))) writeFileSync(join(web, 'server.mjs'), SERVER);
        writeFileSync(file, stack(port));
        print(o, `wrote ${file} and ${web}/server.mjs\nnext: symphony plan -f ${file}`, { file, app: join(web, 'server.mjs') });
      }),
    );
}
