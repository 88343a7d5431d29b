export { rollCluster, type RollOptions, type RollResult } from './roll.js';
export { planClusterRoll, judgeCluster, byOrdinal, type RollCapabilities } from './plan.js';
export { ClusterUnhealthyError, ClusterRollInputError, MemberReplaceError, MemberVolumeMissingError, type MemberReplaceFailure } from './errors.js';
export type { ClusterMember, ClusterProbe, ClusterStatus, MemberStatus, RollEvent, RollStep } from './types.js';
