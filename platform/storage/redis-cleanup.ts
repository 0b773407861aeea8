import { Redis } from 'ioredis';

/** Deletes every key under `prefix` in a shared Redis (our own server is simply stopped). */
export async function purgeKeyPrefix(directUrl: string, prefix: string): Promise<void> {
  const client = new Redis(directUrl, { lazyConnect: true, commandTimeout: 2000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
