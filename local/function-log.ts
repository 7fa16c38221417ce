/**
 * Where `npm start` sends the functions' JSON log lines (local/start.ts), the one answer both the
 * cluster and the banner take, so the banner names the file actually written. A persisted run
 * logs to .local/functions.log; an --in-memory run, which may run beside it or beside another
 * --in-memory run, to a file of its own that no other run shares.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export interface FunctionLogChoice {
  /** `--function-log FILE`, as given (relative to `cwd`). */
  readonly given: string | undefined;
  readonly inMemory: boolean;
  /** `--ready-json`: with no file given, the lines go to this process's output. */
  readonly quiet: boolean;
  /** The persisted run's state folder (.local/ of the checkout). */
  readonly stateDir: string;
  readonly cwd: string;
}

/** The absolute path of the log file, or undefined for this process's output; an --in-memory run's own file is under a new temporary folder. */
export function functionLogFile(choice: FunctionLogChoice): string | undefined {
  if (choice.given !== undefined) return path.resolve(choice.cwd, choice.given);
  if (choice.quiet) return undefined;
  if (choice.inMemory) return path.join(mkdtempSync(path.join(tmpdir(), 'geocluster-in-memory-')), 'functions.log');
  return path.join(choice.stateDir, 'functions.log');
}
