import type { Command } from 'commander';
import { SymphonyError } from '../../errors.js';
import { baseImageTag, ensureBaseImage } from '../../runtime/container/base-image.js';
import { requireEngine } from '../../runtime/container/engine.js';
import { action, print } from '../common.js';

interface ImageOptions {
  json?: boolean;
  force?: boolean;
}

/**
 * `symphony image base node`: make the local base image `symphony/node:<host
 * Node major>` from the host's node binary (no registry needed). A build whose
 * Dockerfile starts FROM it makes it on demand, so this verb is for doing it
 * ahead of time or again (`--force`).
 */
export function registerImage(program: Command): void {
  const image = program.command('image').description('container images Symphony makes itself');
  image
    .command('base <name>')
    .description(`make the local base image ${baseImageTag()} from this host's node binary and the libraries ldd lists`)
    .option('--force', 'build it again even when the engine has it')
    .option('--json', 'machine-readable output')
    .action(
      action(async (name: string, o: ImageOptions) => {
        if (name !== 'node') throw new SymphonyError(`no base image '${name}'; the one Symphony makes is 'node' (${baseImageTag()})`, 'symphony image base node');
        const started = Date.now();
        const engine = await requireEngine({ onStart: (line) => process.stderr.write(`symphony: ${line}\n`) });
        const base = await ensureBaseImage(engine, { force: o.force });
        const ms = Date.now() - started;
        const how = base.built ? `built in ${(ms / 1000).toFixed(1)} s` : 'already present (--force builds it again)';
        print(o, `${base.tag} ${base.id.slice(7, 19)}: ${how}\nengine: ${engine.address} (${engine.owner}, ${engine.version})`, { ...base, ms, engine: { address: engine.address, owner: engine.owner, version: engine.version } });
      }),
    );
}
