export { rehearse, type RehearsalReport, type RehearseOptions } from './run.js';
export { assertRehearsed, passedRehearsal, planDigest, readRehearsals, recordRehearsal, type RehearsalRecord } from './record.js';
export { RehearsalError, RehearsalRequiredError, TeardownError } from './errors.js';
export { restorePlan, translateConfig, translatePlan, translateString, type CopyMap, type CurrentService } from './translate.js';
export { processesUnder, tearDown, type Leftovers } from './teardown.js';
