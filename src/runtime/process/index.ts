export { ProcessDriver, type ProcessDriverOptions } from './driver.js';
export { rotateLog, rotateLogs, type RotateOptions } from './logs.js';
export { STAMP, baseEnv, instanceEnv, launchCommand } from './launch.js';
