/**
 * Supervision of the emulators' child processes: each runs detached in its own process group,
 * its output tail is kept for error messages, it is stopped with SIGTERM then SIGKILL, and it
 * never outlives this process (exit and signal hooks while any child runs, and a shell watchdog
 * that kills the command when our end of its stdin closes, which covers SIGKILL of the parent).
 * Readiness is polled with a probe until a deadline, failing early when the child exits.
 */
import type { ChildProcess } from 'node:child_process';
import { LocalStartError, oneLine } from './errors';

/** An emulator that was started and answers on `endpoint`. */
export interface StartedService {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * Runs the command in "$@" under /bin/sh so that it dies with the parent even on SIGKILL: the
 * parent holds the write end of our stdin, and a watchdog kills the command when it reads EOF.
 * SIGTERM to the shell stops the command and waits for it, so the port is free once we exit.
 */
export const WATCHDOG_SCRIPT = [
  'exec 3<&0', // background jobs get /dev/null as stdin, so keep the parent's pipe on fd 3
  '"$@" </dev/null 3<&- &',
  'pid=$!',
  '(cat <&3 >/dev/null; kill "$pid" 2>/dev/null) &',
  'exec 3<&-',
  'trap \'kill "$pid" 2>/dev/null; wait "$pid"; exit 143\' TERM INT HUP',
  'wait "$pid"',
].join('\n');

const OUTPUT_TAIL_LINES = 8;

/** A detached child (own process group) that is killed when this process exits. */
export class ManagedChild {
  private readonly tail: string[] = [];
  private exitInfo: string | undefined;
  private readonly exited: Promise<void>;
  private stopping: Promise<void> | undefined;
  private printedListening = false;
  private ended = false;

  /**
   * `listeningLine`: what the command prints once it listens. Until then a readiness probe's
   * answer may come from another process on the port (one that took it first), not from this child.
   */
  constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
    readonly listeningLine?: string,
  ) {
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split(/\r?\n/)) {
        if (listeningLine !== undefined && line.includes(listeningLine)) this.printedListening = true;
        // Java stack frames would crowd the exception messages out of the tail.
        if (line.trim() === '' || /^\s+(at |\.\.\. \d+ more)/.test(line)) continue;
        this.tail.push(line);
        if (this.tail.length > OUTPUT_TAIL_LINES) this.tail.shift();
      }
    };
    // Always drain the pipes: a full pipe buffer would block the child.
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    // Writing to a child that died raises EPIPE on stdin; the exit handler reports it instead.
    proc.stdin?.on('error', () => undefined);
    this.exited = new Promise<void>((resolve) => {
      proc.once('error', (err) => {
        this.exitInfo ??= `failed to start: ${err.message}`;
        resolve();
      });
      proc.once('exit', (code, signal) => {
        this.exitInfo ??= signal === null ? `exited with code ${code}` : `was killed by ${signal}`;
        resolve();
      });
    });
    trackChild(this);
  }

  /** Resolves when the child is gone. */
  whenExited(): Promise<void> {
    return this.exited;
  }

  /** Whether the child has printed its listeningLine (true for a child that prints none). */
  get listening(): boolean {
    return this.listeningLine === undefined || this.printedListening;
  }

  /** Why the child is gone, or undefined while it runs. */
  get exitReason(): string | undefined {
    return this.exitInfo;
  }

  outputTail(): string {
    return this.tail.length === 0 ? '(no output)' : this.tail.map((line) => line.trim()).join(' | ');
  }

  /** Whether this process ended the child (stop, or killNow on its way out), rather than the child dying on its own. */
  get endedByUs(): boolean {
    return this.ended;
  }

  /** For process exit paths, where only synchronous work runs. */
  killNow(): void {
    this.ended = true;
    this.signalGroup('SIGKILL');
  }

  stop(): Promise<void> {
    this.ended = true;
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (this.exitInfo === undefined && this.proc.pid !== undefined) {
      try {
        this.proc.kill('SIGTERM');
      } catch {
        // already gone
      }
      if (!(await settlesWithin(this.exited, 10_000))) {
        this.signalGroup('SIGKILL');
        await settlesWithin(this.exited, 5_000);
      }
    }
    this.proc.stdin?.destroy();
    // Sweep helpers left in the group (the watchdog) whatever happened above.
    this.signalGroup('SIGKILL');
    untrackChild(this);
  }

  private signalGroup(signal: NodeJS.Signals): void {
    if (this.proc.pid === undefined) return;
    try {
      process.kill(-this.proc.pid, signal);
    } catch {
      // ESRCH: the group is already gone
    }
  }
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const CHILD_EXITED = Symbol('child exited');

export async function waitUntilReady(
  name: string,
  endpoint: string,
  timeoutMs: number,
  child: ManagedChild | undefined,
  probe: () => Promise<unknown>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  for (;;) {
    if (child?.exitReason !== undefined) {
      throw new LocalStartError(`${name} ${child.exitReason} before it was ready on ${endpoint}; last output: ${child.outputTail()}`);
    }
    if (child === undefined || child.listening) {
      try {
        // A child that dies (e.g. it could not bind its port) ends a probe that another process
        // holding the port accepted but never answers.
        const exited = child?.whenExited().then(() => CHILD_EXITED);
        if ((await Promise.race([probe(), ...(exited === undefined ? [] : [exited])])) === CHILD_EXITED) continue;
        return;
      } catch (err) {
        lastError = oneLine(err);
      }
    } else {
      lastError = 'it has not said it listens yet';
    }
    if (Date.now() >= deadline) {
      const output = child === undefined ? '' : `; last output: ${child.outputTail()}`;
      throw new LocalStartError(`${name} did not answer on ${endpoint} within ${timeoutMs} ms (${lastError})${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Children must not outlive us. 'exit' covers normal exits and process.exit(); signals need their
// own handlers, which we only keep while children are running.
const liveChildren = new Set<ManagedChild>();
const EXIT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function killAllNow(): void {
  for (const child of liveChildren) child.killNow();
}

function onSignal(signal: NodeJS.Signals): void {
  killAllNow();
  liveChildren.clear();
  uninstallExitHooks();
  // With no other handlers, our listener suppressed Node's default action; re-raise to get it.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function trackChild(child: ManagedChild): void {
  if (liveChildren.size === 0) {
    process.on('exit', killAllNow);
    for (const signal of EXIT_SIGNALS) process.on(signal, onSignal);
  }
  liveChildren.add(child);
}

function untrackChild(child: ManagedChild): void {
  if (liveChildren.delete(child) && liveChildren.size === 0) uninstallExitHooks();
}

function uninstallExitHooks(): void {
  process.off('exit', killAllNow);
  for (const signal of EXIT_SIGNALS) process.off(signal, onSignal);
}
