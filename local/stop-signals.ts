/**
 * What `npm start` does on Ctrl-C (SIGINT) or SIGTERM: the first stops the cluster and exits 0
 * once the stop is done; a second one while that stop still runs (a function's batch ending, a
 * slow emulator) exits at once, as a shell's 128 + signal, saying what the unfinished stop may
 * leave, because the user will not wait.
 */
import { constants as osConstants } from 'node:os';

export interface StopOnSignalOptions {
  /** The whole stop (local/cluster.ts `stop`). */
  readonly stop: () => Promise<void>;
  /** Said when the first signal starts the stop (nothing when absent). */
  readonly announce?: () => void;
  /** The line a second signal prints before the exit: what the cut-short stop may leave. */
  readonly forcedMessage: (signal: NodeJS.Signals) => string;
  /** Defaults to process.exit and console.error (tests pass their own). */
  readonly exit?: (code: number) => void;
  readonly error?: (line: string) => void;
}

/** The handler for SIGINT and SIGTERM (`process.on(signal, handler)`). */
export function stopOnSignals(options: StopOnSignalOptions): (signal: NodeJS.Signals) => Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const error = options.error ?? ((line: string) => console.error(line));
  let stopping = false;
  return async (signal) => {
    if (stopping) {
      error(options.forcedMessage(signal));
      exit(128 + (osConstants.signals[signal] ?? 0));
      return;
    }
    stopping = true;
    options.announce?.();
    await options.stop();
    exit(0);
  };
}
