import { RuntimeError } from '../errors.js';
import { appKind } from './app.js';
import type { ServiceKind } from './types.js';

const kinds = new Map<string, ServiceKind>([[appKind.name, appKind]]);

/** Make a kind known (postgres, etcd… register themselves from their folders). */
export function registerKind(kind: ServiceKind): void {
  kinds.set(kind.name, kind);
}

export function getKind(name: string): ServiceKind {
  const kind = kinds.get(name);
  if (!kind) throw new RuntimeError(`unknown service kind '${name}'; known: ${[...kinds.keys()].join(', ')}`);
  return kind;
}
