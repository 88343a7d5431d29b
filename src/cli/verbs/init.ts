import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { SymphonyError } from '../../errors.js';
import { action, print, stackFile, withCommon, type GlobalOptions } from '../common.js';

const STACK = `# Symphony stack file. Reference: docs/stack-file.md
name: app
services:
  web:
    run: node server.mjs
    dir: ./web
    replicas: 2
    health: { http: /healthz }
routes:
  - { listen: 8080, to: web }
`;

const SERVER = `import { createServer } from 'node:http';
const server = createServer((req, res) => {
  if (req.url === '/healthz') return res.end('ok');
  res.end('hello from ' + process.env.SYMPHONY_INSTANCE + '\\n');
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

export function registerInit(program: Command): void {
  withCommon(program.command('init').description('write a starter stack file and a tiny app next to it')).action(
    action(async (o: GlobalOptions) => {
      const file = stackFile(o);
      if (existsSync(file)) throw new SymphonyError(`${file} already exists; init never overwrites`, 'edit it, or run symphony init -f <other file>');
      const web = join(dirname(file), 'web');
      mkdirSync(web, { recursive: true });
      if (!existsSync(join(web, 'server.mjs'))) writeFileSync(join(web, 'server.mjs'), SERVER);
      writeFileSync(file, STACK);
      print(o, `wrote ${file} and ${web}/server.mjs\nnext: symphony plan -f ${file}`, { file, app: join(web, 'server.mjs') });
    }),
  );
}
