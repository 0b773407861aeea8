/**
 * Loopback plumbing shared by the project's own tests: servers on 127.0.0.1 only, ports that
 * refuse, and capturing the error a promise rejects with.
 */
import type http from 'node:http';
import net from 'node:net';
import { expect } from 'vitest';
import { CheckError } from '../../helpers/core/errors.ts';

/** Listens on an ephemeral loopback port and resolves with it. */
export function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

/** Closes a server, dropping kept-alive connections so close() does not wait on them. */
export function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    (server as http.Server).closeAllConnections?.();
    server.close(() => resolve());
  });
}

/** A port that was bound then released: connecting to it is refused at once. */
export async function refusedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await closeServer(server);
  return port;
}

/** The error `promise` rejects with; fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

/** Like rejectionOf, and asserts the rejection is a CheckError (a target failure, not a harness bug). */
export async function checkErrorOf(promise: Promise<unknown>): Promise<CheckError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(CheckError);
  return error as CheckError;
}
