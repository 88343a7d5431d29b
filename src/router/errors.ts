import { SymphonyError } from '../errors.js';

/** A route sent to the router is not valid; nothing was changed. */
export class RouteInvalidError extends SymphonyError {
  override readonly code = 'route_invalid';
  constructor(routeId: string, problems: string[]) {
    super(
      `route ${routeId || '(no id)'} is not valid: ${problems.join('; ')}`,
      'fix the route (weights 0..100 summing to 100 or all 0, listen 1..65535) and set it again',
    );
  }
}

/** The named route is not in the router's config. */
export class RouteNotFoundError extends SymphonyError {
  override readonly code = 'route_not_found';
  constructor(routeId: string) {
    super(`the router has no route ${routeId}`, 'list the routes with: symphony router status');
  }
}

/** A route's port could not be opened on 127.0.0.1. */
export class ListenError extends SymphonyError {
  override readonly code = 'router_listen';
  constructor(routeId: string, port: number, reason: string) {
    super(
      `route ${routeId} cannot listen on 127.0.0.1:${port}: ${reason}`,
      `free the port (ss -ltnp 'sport = :${port}') or choose another listen port`,
    );
  }
}

/** No router answers on the control socket. */
export class RouterUnavailableError extends SymphonyError {
  override readonly code = 'router_unavailable';
  constructor(socketPath: string, reason: string) {
    super(
      `no router answers on ${socketPath}: ${reason}`,
      'start it with: symphony router (it restores its routes from disk)',
    );
  }
}

/** Another router already serves this directory. */
export class RouterRunningError extends SymphonyError {
  override readonly code = 'router_running';
  constructor(socketPath: string, pid: number) {
    super(`a router (pid ${pid}) already answers on ${socketPath}`, 'use it, or stop it first: kill ' + pid);
  }
}

/** The router answered a control request with an error. */
export class RouterRequestError extends SymphonyError {
  override readonly code: string;
  constructor(code: string, message: string, hint?: string) {
    super(message, hint);
    this.code = code;
  }
}

/** The config file on disk cannot be read back. */
export class RouterConfigCorruptError extends SymphonyError {
  override readonly code = 'router_config_corrupt';
  constructor(file: string, reason: string) {
    super(
      `the router config ${file} cannot be read: ${reason}`,
      `move it aside (mv ${file} ${file}.bad), start the router, and let the agent set the routes again`,
    );
  }
}
