/** Startup errors of the local runtime and the two helpers that word them. */

/** Startup problems the user can fix; the message is one actionable line. */
export class LocalStartError extends Error {
  override name = 'LocalStartError';
}

export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

export function oneLine(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}
