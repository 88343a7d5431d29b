import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RuntimeError } from '../../errors.js';
import type { Engine } from './engine.js';

/** One message of the engine's build stream. */
interface BuildEvent {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

export interface BuildResult {
  /** `sha256:<64 hex>`: the image ID, the same for the same Dockerfile and context (the engine's cache). */
  id: string;
  /** What the build printed (its steps), for errors and `--verbose`. */
  output: string;
}

export interface BuildRequest {
  /** Directory sent as the build context (`.dockerignore` in it is honoured). */
  context: string;
  tag: string;
  /** Dockerfile path inside the context (default `Dockerfile`). */
  dockerfile?: string;
  /** Where the image was asked for, named in errors: `services.api.image.build`. */
  where: string;
}

/**
 * Build an image through the engine's build endpoint (`POST /build` with a
 * tar of the context), never the docker CLI. Fails with the build's own last
 * lines and where it was asked for.
 */
export async function buildImage(engine: Engine, req: BuildRequest): Promise<BuildResult> {
  const src = readdirSync(req.context);
  const stream = await engine.docker.buildImage({ context: req.context, src }, { t: req.tag, dockerfile: req.dockerfile ?? 'Dockerfile', rm: true, forcerm: true });
  const events = await new Promise<BuildEvent[]>((resolve, reject) => {
    engine.docker.modem.followProgress(stream, (err: Error | null, out: BuildEvent[]) => (err ? reject(err) : resolve(out)));
  });
  const output = events.map((e) => e.stream ?? '').join('');
  const failed = events.find((e) => e.error || e.errorDetail);
  if (failed) {
    const tail = output.trim().split('\n').slice(-8).join('\n');
    throw new RuntimeError(
      `${req.where}: the image build of ${req.context} failed: ${failed.errorDetail?.message ?? failed.error}\n${tail}`,
      `fix ${join(req.context, req.dockerfile ?? 'Dockerfile')} and run symphony plan again`,
    );
  }
  const id = events.map((e) => e.aux?.ID).find((x): x is string => typeof x === 'string') ?? (await engine.docker.getImage(req.tag).inspect()).Id;
  return { id, output };
}

/** The image a Dockerfile starts from (its first FROM), or null when it has none. */
export function baseOf(dockerfile: string): string | null {
  let text: string;
  try {
    text = readFileSync(dockerfile, 'utf8');
  } catch {
    return null;
  }
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || /^ARG\s/i.test(line)) continue;
    const m = /^FROM\s+(?:--platform=\S+\s+)?(\S+)/i.exec(line);
    return m ? m[1] : null;
  }
  return null;
}

/** The ID of a local image by name or ID, or null when the engine has none. */
export async function imageId(engine: Engine, ref: string): Promise<string | null> {
  try {
    return (await engine.docker.getImage(ref).inspect()).Id;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return null;
    throw err;
  }
}
