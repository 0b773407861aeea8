import { z } from 'zod';
import { requireUser } from '../auth/authenticate.ts';
import type { PlatformContext } from '../context.ts';
import type { Route } from '../http/router.ts';
import { parseBody } from '../http/validate.ts';
import { storeTicket } from '../storage/tickets.ts';
import { randomSecret } from '../util/ids.ts';

export const DEFAULT_TICKET_TTL_S = 30;
export const MAX_TICKET_TTL_S = 300;

const ticketBody = z.object({ ttl_seconds: z.number().positive().optional() });

export function ticketRoutes(context: PlatformContext): Route[] {
  return [
    {
      method: 'POST',
      path: '/api/websocket/ticket',
      handler: async (request) => {
        const user = await requireUser(context, request);
        const { ttl_seconds } = parseBody(ticketBody, await request.readJson({ optional: true }));
        // Longer requests are capped rather than refused: a ticket is meant to be used at once.
        const ttlSeconds = Math.min(ttl_seconds ?? DEFAULT_TICKET_TTL_S, MAX_TICKET_TTL_S);
        const ticketId = randomSecret(24);
        const expiresAt = new Date(Date.now() + ttlSeconds * 1000).toISOString();
        await storeTicket(context.redis, ticketId, { user_id: user.sub, email: user.email, expires_at: expiresAt }, Math.round(ttlSeconds * 1000));
        // websocket_url is the bare endpoint; the client appends `?ticket=<ticket_id>`.
        return { status: 201, body: { ticket_id: ticketId, expires_at: expiresAt, websocket_url: context.wsUrl, ttl_seconds: ttlSeconds } };
      },
    },
  ];
}
