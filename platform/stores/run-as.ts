import { readFileSync } from 'node:fs';

export interface RunAs {
  uid: number;
  gid: number;
  user: string;
}

function lookupUser(name: string): RunAs | undefined {
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of passwd.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) {
      return { user, uid: Number(uid), gid: Number(gid) };
    }
  }
  return undefined;
}

/**
 * PostgreSQL refuses to run as root, so as root we run it as the `postgres` system user when it
 * exists, else `nobody`. Returns undefined when no switch is needed.
 */
export function unprivilegedUserIfRoot(): RunAs | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const user = lookupUser('postgres') ?? lookupUser('nobody');
  if (!user) throw new Error('running as root but neither a `postgres` nor a `nobody` user exists to run PostgreSQL');
  return user;
}
