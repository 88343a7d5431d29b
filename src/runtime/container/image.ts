import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RuntimeError } from '../../errors.js';
import { baseImageTag, ensureBaseImage, isBaseImage } from './base-image.js';
import { baseOf, buildImage, imageId } from './build.js';
import type { Engine } from './engine.js';

/** `image:` of a service as the stack file gives it. */
export type ImageSource = string | { build: string; dockerfile?: string };

export interface ResolvedImage {
  /** `sha256:…`: what the release records and what its containers are created from. */
  id: string;
  /** The tag it was built as, or the name it was given. */
  ref: string;
  built: boolean;
}

/** Tag a service's built image carries (the release records the ID, never the tag). */
export const buildTagOf = (stack: string, service: string): string => `symphony-build/${stack}-${service}:latest`.toLowerCase();

/**
 * The image of a service: `{ build: ./dir }` is built through the engine (the
 * engine's cache gives the same ID for the same Dockerfile and context, so the
 * same inputs plan the same release); a name is looked up among local images
 * (no registry is asked). A Dockerfile starting `FROM symphony/node:<major>`
 * gets that base image made first when the engine lacks it.
 */
export async function resolveImage(engine: Engine, src: ImageSource, opts: { stackDir: string; stack: string; service: string }): Promise<ResolvedImage> {
  const where = `services.${opts.service}.image`;
  if (typeof src === 'string') {
    const id = await imageId(engine, src);
    if (!id) throw new RuntimeError(`${where}: no local image ${src} on the engine (${engine.address}); no registry is asked`, `build it (image: { build: ./dir }), or load it: docker load -i <file>, then run symphony plan again`);
    return { id, ref: src, built: false };
  }
  const context = resolve(opts.stackDir, src.build);
  if (!existsSync(context) || !statSync(context).isDirectory()) throw new RuntimeError(`${where}.build: ${context} is not a directory`, `fix ${where}.build in the stack file`);
  const dockerfile = src.dockerfile ?? 'Dockerfile';
  if (!existsSync(join(context, dockerfile))) throw new RuntimeError(`${where}.build: no ${dockerfile} in ${context}`, `write ${join(context, dockerfile)} (e.g. FROM ${baseImageTag()}), then run symphony plan again`);
  const from = baseOf(join(context, dockerfile));
  if (from && isBaseImage(from)) {
    if (from !== baseImageTag()) throw new RuntimeError(`${where}.build: ${dockerfile} starts FROM ${from}, but this host's node makes ${baseImageTag()}`, `change it to FROM ${baseImageTag()}`);
    await ensureBaseImage(engine);
  }
  const tag = buildTagOf(opts.stack, opts.service);
  const { id } = await buildImage(engine, { context, tag, dockerfile, where: `${where}.build` });
  return { id, ref: tag, built: true };
}
