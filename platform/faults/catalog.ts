import { z } from 'zod';
import type { TcpProxy } from './tcp-proxy.ts';

/**
 * Everything a fault may switch. Store faults act on the proxies; later faults (backend 503s,
 * WebSocket close codes, agent stalls, canned answers...) get their switches added here and
 * read by the component they break.
 */
export interface FaultContext {
  postgresProxy: TcpProxy;
  redisProxy: TcpProxy;
}

export type FaultComponent = 'postgres' | 'redis' | 'backend' | 'auth' | 'websocket' | 'agent';

export interface FaultDefinition {
  name: string;
  component: FaultComponent;
  description: string;
  /** Validates (and coerces: CLI params arrive as strings) the parameters. */
  params: z.ZodType<Record<string, unknown>>;
  apply(context: FaultContext, params: Record<string, unknown>): Promise<void> | void;
  clear(context: FaultContext): Promise<void> | void;
}

function defineFault<S extends z.ZodType<Record<string, unknown>>>(definition: {
  name: string;
  component: FaultComponent;
  description: string;
  params: S;
  apply(context: FaultContext, params: z.infer<S>): Promise<void> | void;
  clear(context: FaultContext): Promise<void> | void;
}): FaultDefinition {
  return definition as unknown as FaultDefinition;
}

const noParams = z.object({}).strict();

export const faultCatalog: readonly FaultDefinition[] = [
  defineFault({
    name: 'pg_slow',
    component: 'postgres',
    description: 'Delays every PostgreSQL server→client chunk by `ms` milliseconds (slow database).',
    params: z.object({ ms: z.coerce.number().int().min(0).max(120_000).default(500) }).strict(),
    apply: (context, params) => context.postgresProxy.setDelay('toClient', params.ms),
    clear: (context) => context.postgresProxy.setDelay('toClient', 0),
  }),
  defineFault({
    name: 'pg_down',
    component: 'postgres',
    description: 'PostgreSQL unreachable: open connections are cut and new ones refused.',
    params: noParams,
    apply: (context) => context.postgresProxy.setRefusing(true),
    clear: (context) => context.postgresProxy.setRefusing(false),
  }),
  defineFault({
    name: 'redis_silent',
    component: 'redis',
    description: 'Redis black hole: connections open and stay open, but nothing is forwarded either way.',
    params: noParams,
    apply: (context) => context.redisProxy.setBlackhole(true),
    clear: (context) => context.redisProxy.setBlackhole(false),
  }),
  defineFault({
    name: 'redis_refused',
    component: 'redis',
    description: 'Redis unreachable: open connections are cut and new ones refused.',
    params: noParams,
    apply: (context) => context.redisProxy.setRefusing(true),
    clear: (context) => context.redisProxy.setRefusing(false),
  }),
];

/** The catalog as JSON for GET /__platform/faults. */
export function describeCatalog(catalog: readonly FaultDefinition[] = faultCatalog): Array<{
  name: string;
  component: FaultComponent;
  description: string;
  params: unknown;
}> {
  return catalog.map((fault) => ({
    name: fault.name,
    component: fault.component,
    description: fault.description,
    params: z.toJSONSchema(fault.params, { io: 'input', unrepresentable: 'any' }),
  }));
}
