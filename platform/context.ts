import type { Redis } from 'ioredis';
import type { PlatformConfig } from './config.ts';
import type { BehaviourSwitches } from './faults/behaviour.ts';
import type { FaultSwitch } from './faults/switch.ts';
import type { ColdStarts } from './http/cold-start.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { Sql } from './storage/database.ts';
import type { TokenSettings } from './auth/tokens.ts';
import type { TlsState } from './tls/tls-state.ts';
import type { Logger } from './util/log.ts';

/** What the servers share: stores (through the proxies), token settings, config, faults. */
export interface PlatformContext {
  config: PlatformConfig;
  sql: Sql;
  redis: Redis;
  tokens: TokenSettings;
  lifecycle: Lifecycle;
  faults: FaultSwitch;
  /** The in-code fault switches (set only through `faults`); each component reads its own. */
  behaviour: BehaviourSwitches;
  log: Logger;
  /** Public WebSocket URL, known once the backend listens (for ticket responses). */
  wsUrl: string;
  /** HTTPS/WSS certificates (TLS profile only). */
  tls: TlsState | undefined;
  /** Each component's first-request delay (none unless `coldStartMs`). */
  coldStarts: ColdStarts;
}
