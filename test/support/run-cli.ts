/**
 * The operator CLI run in the test's process (cli/main.ts `runCli`), its output collected as
 * a terminal would show it: every write one line, ending in a newline.
 */
import { runCli, type CliIo } from '../../cli/main';

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs `argv` with `io`'s terminal, environment and folder: its exit code and what it wrote. */
export async function runCliCollected(argv: readonly string[], io: Omit<CliIo, 'out' | 'err'>): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await runCli([...argv], { ...io, out: (text) => (out += `${text}\n`), err: (text) => (err += `${text}\n`) });
  return { code, out, err };
}
