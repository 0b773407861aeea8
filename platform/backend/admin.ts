import { secretsEqual } from '../auth/passwords.ts';
import type { PlatformContext } from '../context.ts';
import { FaultUnavailableError, InvalidFaultParamsError, UnknownFaultError } from '../faults/switch.ts';
import { HttpError, type RequestContext, type Route } from '../http/router.ts';

export const ADMIN_PREFIX = '/__platform';
export const ADMIN_TOKEN_HEADER = 'x-platform-admin-token';

function requireAdmin(context: PlatformContext, request: RequestContext): void {
  const given = request.req.headers[ADMIN_TOKEN_HEADER];
  const token = Array.isArray(given) ? given[0] : given;
  if (!token || !secretsEqual(token, context.config.adminToken)) {
    throw new HttpError(401, 'admin_unauthorized', `missing or wrong ${ADMIN_TOKEN_HEADER} header`);
  }
}

function faultError(error: unknown): never {
  if (error instanceof UnknownFaultError) throw new HttpError(404, 'unknown_fault', error.message);
  if (error instanceof InvalidFaultParamsError) throw new HttpError(422, 'invalid_fault_params', error.message);
  if (error instanceof FaultUnavailableError) throw new HttpError(409, 'fault_unavailable', error.message);
  throw error;
}

/** The run-time fault switch. Bound, like everything, on 127.0.0.1 only. */
export function adminRoutes(context: PlatformContext): Route[] {
  return [
    {
      method: 'GET',
      path: `${ADMIN_PREFIX}/faults`,
      handler: (request) => {
        requireAdmin(context, request);
        return { status: 200, body: context.faults.describe() };
      },
    },
    {
      method: 'PUT',
      path: `${ADMIN_PREFIX}/faults/:name`,
      handler: async (request) => {
        requireAdmin(context, request);
        const params = await request.readJson({ optional: true });
        const fault = await context.faults.set(request.params.name ?? '', params).catch(faultError);
        context.log.info(`fault on: ${fault.name} ${JSON.stringify(fault.params)}`);
        return { status: 200, body: { fault, active: context.faults.activeFaults() } };
      },
    },
    {
      method: 'DELETE',
      path: `${ADMIN_PREFIX}/faults/:name`,
      handler: async (request) => {
        requireAdmin(context, request);
        const name = request.params.name ?? '';
        const cleared = await context.faults.clear(name).catch(faultError);
        if (cleared) context.log.info(`fault off: ${name}`);
        return { status: 200, body: { cleared, active: context.faults.activeFaults() } };
      },
    },
    {
      method: 'DELETE',
      path: `${ADMIN_PREFIX}/faults`,
      handler: async (request) => {
        requireAdmin(context, request);
        const cleared = await context.faults.clearAll();
        if (cleared.length) context.log.info(`faults off: ${cleared.join(', ')}`);
        return { status: 200, body: { cleared, active: context.faults.activeFaults() } };
      },
    },
  ];
}
