import { accessSync, constants, readdirSync } from 'node:fs';
import path from 'node:path';

/** Raised when a store binary is missing; the message tells the user what to install. */
export class MissingBinaryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingBinaryError';
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Debian/Ubuntu keep server binaries off PATH, in /usr/lib/postgresql/<major>/bin. */
function inDebianPostgresDirs(name: string): string | undefined {
  const root = '/usr/lib/postgresql';
  let majors: string[];
  try {
    majors = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  } catch {
    return undefined;
  }
  for (const major of majors) {
    const candidate = path.join(root, major, 'bin', name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

export function findPostgresBinaries(): PostgresBinaries {
  // initdb and postgres must come from the same installation, so prefer a directory holding both.
  const fromPath = onPath('initdb');
  if (fromPath) {
    const sibling = path.join(path.dirname(fromPath), 'postgres');
    if (isExecutable(sibling)) return { initdb: fromPath, postgres: sibling };
  }
  const initdb = inDebianPostgresDirs('initdb');
  if (initdb) {
    const sibling = path.join(path.dirname(initdb), 'postgres');
    if (isExecutable(sibling)) return { initdb, postgres: sibling };
  }
  throw new MissingBinaryError(
    'PostgreSQL server binaries (initdb, postgres) not found: install them with ' +
      '`apt-get install postgresql` or `brew install postgresql@15`, or set PLATFORM_DATABASE_URL ' +
      'to an existing database',
  );
}

export function findRedisServer(): string {
  const found = onPath('redis-server') ?? (isExecutable('/usr/bin/redis-server') ? '/usr/bin/redis-server' : undefined);
  if (found) return found;
  throw new MissingBinaryError(
    'redis-server not found: install it with `apt-get install redis-server` or `brew install redis`, ' +
      'or set PLATFORM_REDIS_URL to an existing Redis',
  );
}

/** The openssl CLI, which generates the TLS profile's CA and certificates. */
export function findOpenssl(): string {
  const found = onPath('openssl') ?? (isExecutable('/usr/bin/openssl') ? '/usr/bin/openssl' : undefined);
  if (found) return found;
  throw new MissingBinaryError('openssl not found: the TLS (staging) profile generates its CA with it; install it with `apt-get install openssl` or `brew install openssl`');
}
