/**
 * Ports on 127.0.0.1: pick a free one, or check a chosen one is free before a child process
 * (whose own "address in use" would be a Java stack trace) tries to bind it, and start an
 * emulator on a picked port again on another when the picked one was taken before it bound it.
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

/** An emulator could not bind its port: another process holds it. */
export class PortInUseError extends LocalStartError {
  constructor(
    readonly port: number,
    message: string,
  ) {
    super(message);
  }
}

/** How many picked ports an emulator tries before its start fails. */
export const FREE_PORT_ATTEMPTS = 5;

export interface StartOnPortOptions {
  /** Picks a free port for a port asked as 0. @default findFreePort */
  pick?: () => Promise<number>;
  /** Ports not to pick (the other emulator's); each port picked here is added to it. */
  taken?: Set<number>;
  /** `npm start`'s flag that chooses this port, named when every attempt failed. */
  option: string;
}

/**
 * Starts `what` with `start`, which binds the port itself, later than a check here could hold it.
 * A port given (not 0) is tried once: its PortInUseError is the answer, for a port the user chose
 * is never replaced. For port 0 a free port is picked; a picked port is only free when picked, so
 * when another process binds it first (clusters and test workers starting side by side) and
 * `start` fails with PortInUseError, another is picked, FREE_PORT_ATTEMPTS ports in all.
 */
export async function startOnPort<T>(wanted: number, what: string, start: (port: number) => Promise<T>, options: StartOnPortOptions): Promise<T> {
  if (wanted !== 0) return start(wanted);
  const pick = options.pick ?? findFreePort;
  const taken = options.taken ?? new Set<number>();
  const tried: number[] = [];
  while (tried.length < FREE_PORT_ATTEMPTS) {
    const port = await pickUntaken(pick, taken);
    taken.add(port);
    tried.push(port);
    try {
      return await start(port);
    } catch (err) {
      if (!(err instanceof PortInUseError)) throw err;
    }
  }
  throw new LocalStartError(
    `${what} could not start on a free port: another process took each port picked for it (${tried.join(', ')}) before it could bind it; ` +
      `retry, or choose a port: npm start -- ${options.option} N`,
  );
}

/** Two picks can coincide while nothing holds the first port; a picker stuck on taken ports is an error. */
async function pickUntaken(pick: () => Promise<number>, taken: Set<number>): Promise<number> {
  for (let picks = 0; picks < 100; picks++) {
    const port = await pick();
    if (!taken.has(port)) return port;
  }
  throw new Error(`The port picker kept returning ports already in use here (${[...taken].join(', ')})`);
}
