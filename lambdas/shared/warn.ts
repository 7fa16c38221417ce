/**
 * How domain code reports what an operator must see (an event parked, a step that failed and
 * will be retried) without depending on the logging library: the functions pass their
 * structured logger's `warn` (lambdas/shared/observability.ts), so the fields are queryable in
 * CloudWatch Logs Insights; code run without one (tests, tools) writes the same fields as one
 * JSON line on stderr.
 */
export type Warn = (message: string, fields: Readonly<Record<string, unknown>>) => void;

export const consoleWarn: Warn = (message, fields) => console.warn(JSON.stringify({ message, ...fields }));
