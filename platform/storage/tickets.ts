import type { Redis } from 'ioredis';

export interface TicketClaims {
  user_id: string;
  email: string;
  expires_at: string;
}

/** `ws_ticket:<id>` expires on its own (PX keeps sub-second precision for short TTLs). */
export async function storeTicket(redis: Redis, ticketId: string, claims: TicketClaims, ttlMs: number): Promise<void> {
  await redis.set(`ws_ticket:${ticketId}`, JSON.stringify(claims), 'PX', ttlMs);
}

/** Single use: GETDEL is atomic, so two connections racing for one ticket cannot both win. */
export async function consumeTicket(redis: Redis, ticketId: string): Promise<TicketClaims | undefined> {
  const raw = await redis.getdel(`ws_ticket:${ticketId}`);
  return raw ? (JSON.parse(raw) as TicketClaims) : undefined;
}
