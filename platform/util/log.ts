/**
 * A tiny leveled logger. The platform never logs secrets; the sink defaults to stderr so
 * stdout stays reserved for the CLI's machine-readable `.env` / JSON output.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function createLogger(
  level: LogLevel = 'warn',
  sink: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Logger {
  const emit = (at: Exclude<LogLevel, 'silent'>, message: string): void => {
    if (rank[at] >= rank[level]) sink(`[platform] ${at === 'info' ? '' : `${at}: `}${message}`);
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
  };
}
