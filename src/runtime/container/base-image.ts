import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { RuntimeError } from '../../errors.js';
import { buildImage, imageId } from './build.js';
import type { Engine } from './engine.js';

/** The major version of the Node.js running Symphony: the base image carries this very binary. */
export const hostNodeMajor = (): number => Number(process.versions.node.split('.')[0]);

/** `symphony/node:20` on a host whose Node is 20.x. */
export const baseImageTag = (major: number = hostNodeMajor()): string => `symphony/node:${major}`;

/** True for a Dockerfile's FROM that names Symphony's local base image. */
export const isBaseImage = (ref: string): boolean => /^symphony\/node:\d+$/.test(ref);

/**
 * Files the host's node binary needs, as `ldd` lists them: the libraries by
 * the path the loader asks for (a link on the host becomes its target's bytes).
 */
export function nodeLibraries(node: string = process.execPath): string[] {
  const out = execFileSync('ldd', [node], { encoding: 'utf8' });
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]);
  }
  return libs;
}

const DOCKERFILE = (version: string): string =>
  [
    'FROM scratch',
    'COPY rootfs/ /',
    'ENV PATH=/usr/local/bin:/usr/bin:/bin',
    `LABEL org.symphony.base="node" org.symphony.node-version="${version}"`,
    'CMD ["node"]',
    '',
  ].join('\n');

export interface BaseImage {
  tag: string;
  id: string;
  /** False when the engine already had it. */
  built: boolean;
}

/**
 * Make `symphony/node:<host major>` FROM scratch out of the host's node
 * binary and the libraries ldd lists, so Dockerfiles starting
 * `FROM symphony/node:20` build with no registry. Kept when present unless `force`.
 */
export async function ensureBaseImage(engine: Engine, opts: { force?: boolean; major?: number } = {}): Promise<BaseImage> {
  const major = opts.major ?? hostNodeMajor();
  const tag = baseImageTag(major);
  if (major !== hostNodeMajor()) {
    throw new RuntimeError(`${tag} is made from the host's own node binary, which is ${process.versions.node}`, `use FROM ${baseImageTag()} in the Dockerfile, or build the base image on a host with Node ${major}`);
  }
  const have = await imageId(engine, tag);
  if (have && !opts.force) return { tag, id: have, built: false };
  const stage = mkdtempSync(join(tmpdir(), 'symphony-base-'));
  try {
    const root = join(stage, 'rootfs');
    const put = (from: string, to: string): void => {
      mkdirSync(join(root, dirname(to)), { recursive: true });
      copyFileSync(realpathSync(from), join(root, to));
      chmodSync(join(root, to), 0o755);
    };
    put(process.execPath, '/usr/local/bin/node');
    for (const lib of nodeLibraries()) put(lib, lib);
    mkdirSync(join(root, 'tmp'), { recursive: true });
    chmodSync(join(root, 'tmp'), 0o1777);
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc/nsswitch.conf'), 'hosts: files dns\n');
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/usr/local/bin/node\nnobody:x:65534:65534:nobody:/:/usr/local/bin/node\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    writeFileSync(join(stage, 'Dockerfile'), DOCKERFILE(process.versions.node));
    const { id } = await buildImage(engine, { context: stage, tag, where: `base image ${tag}` });
    return { tag, id, built: true };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
