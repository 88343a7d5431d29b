import { clusterKind } from './cluster/index.js';
import { etcdKind } from './etcd/index.js';
import { postgresKind } from './postgres/index.js';
import { registerKind } from './registry.js';

/** Register the kinds shipped with Symphony (app is always known). */
export function registerBuiltinKinds(): void {
  registerKind(postgresKind);
  registerKind(etcdKind);
  registerKind(clusterKind);
}
