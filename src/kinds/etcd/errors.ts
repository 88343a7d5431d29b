import { SymphonyError } from '../../errors.js';

/** The etcd section of a service cannot be turned into a cluster. */
export class EtcdConfigError extends SymphonyError {
  override readonly code = 'etcd_config';
  constructor(service: string, message: string, hint = 'fix the stack file, then run `symphony validate`') {
    super(`service ${service} (etcd): ${message}`, hint);
  }
}

/** An etcd member did not answer a request as expected. */
export class EtcdRequestError extends SymphonyError {
  override readonly code = 'etcd_request';
  constructor(readonly url: string, readonly detail: string, hint = 'check the member: symphony status, symphony logs <service>') {
    super(`etcd request ${url} failed: ${detail}`, hint);
  }
}
