import { SymphonyError } from '../errors.js';

/** The instance's process ended while Symphony waited for it to become healthy. */
export class InstanceExitedError extends SymphonyError {
  override readonly code = 'instance_exited';
  constructor(readonly instance: string, readonly lastDetail: string, logFile?: string) {
    super(
      `instance ${instance} exited before it became healthy (last probe: ${lastDetail})`,
      logFile ? `look at its log for the reason: ${logFile}` : 'look at its log for the reason: symphony logs <service>',
    );
  }
}
