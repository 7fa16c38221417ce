/**
 * Function configuration comes from environment variables, read once at cold start. A missing or
 * malformed variable fails the cold start with a message naming it, rather than a vague error on
 * the first request.
 */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`Environment variable ${name} is required but not set`);
  }
  return value;
}

/** The variable's value, or `undefined` when it is unset or empty (an optional setting). */
export function optionalEnv(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

export function intEnv(name: string, fallback?: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') {
    if (fallback !== undefined) return fallback;
    throw new Error(`Environment variable ${name} is required but not set`);
  }
  const value = Number(raw);
  if (!Number.isInteger(value)) throw new Error(`Environment variable ${name} must be an integer, got '${raw}'`);
  return value;
}

export function boolEnv(name: string, fallback: boolean): boolean {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw !== 'true' && raw !== 'false') throw new Error(`Environment variable ${name} must be 'true' or 'false', got '${raw}'`);
  return raw === 'true';
}

/**
 * A JSON variable's value, or `undefined` when its text is not JSON: each reader then refuses
 * it with a message naming the variable and the shape it expects.
 */
export function envJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
