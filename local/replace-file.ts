/**
 * Replacing a file of the local runtime whole: the contents go into a new file beside it, renamed
 * over it. A run killed while writing leaves the old contents, not half of the new; and the new
 * file takes `mode` whatever the one it replaces allowed (a mode applies only to a file created).
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export function replaceFile(file: string, contents: string, mode?: number): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  rmSync(temporary, { force: true });
  writeFileSync(temporary, contents, { ...(mode === undefined ? {} : { mode }), flag: 'wx' });
  renameSync(temporary, file);
}
