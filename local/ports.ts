/**
 * Ports on 127.0.0.1: pick a free one, or check a chosen one is free before a child process
 * (whose own "address in use" would be a Java stack trace) tries to bind it.
 */
import * as net from 'node:net';
import { LocalStartError, errorCode } from './errors';

export async function findFreePort(): Promise<number> {
  const server = net.createServer();
  await listenOnce(server, 0);
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('Could not determine a free port');
  return address.port;
}

/** Throws LocalStartError when `port` cannot be bound on 127.0.0.1. */
export async function assertPortFree(
  port: number,
  what: string,
  remedy = 'stop the other process or pass --port N',
): Promise<void> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new LocalStartError(`Port ${port} (${what}) is not a valid port number: use 1-65535, or 0 for any free port`);
  }
  const server = net.createServer();
  try {
    await listenOnce(server, port);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'EADDRINUSE') throw new LocalStartError(`Port ${port} (${what}) is in use: ${remedy}`);
    throw new LocalStartError(`Port ${port} (${what}) cannot be opened (${code ?? String(err)}): ${remedy}`);
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

function listenOnce(server: net.Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
