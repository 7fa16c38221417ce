/**
 * GET /executions query parameters to the store's listing query: the one mapping, used by the
 * function and by the listing bench (which counts what each shape reads through the same store).
 */
import { ValidationError } from '../shared/errors';
import { parseWith } from '../shared/validation';
import { PHASES } from './execution';
import type { ListQuery } from './ports';
import { listQuerySchema } from './schemas';

const DEFAULT_LIMIT = 100;
/** Parsed on every request: built at cold start. */
const schema = listQuerySchema();

/**
 * Parameters that take one value. API Gateway hands a repeated key over joined with commas, so
 * `processName=a&processName=b` would read as the one process `a,b`, match nothing and list
 * nothing, with nothing said. `phase` is a comma-separated list anyway: repeating it adds phases.
 */
const SINGLE_VALUED = ['processName', 'userName', 'nodeId', 'completedBefore', 'completedAfter', 'limit', 'cursor'];

/**
 * The listing query of `params` (API Gateway's `queryStringParameters`). Given the raw query
 * string, a single-valued parameter sent more than once is refused, naming it.
 */
export function listQueryOf(params: Record<string, string | undefined>, rawQueryString?: string): ListQuery {
  if (rawQueryString !== undefined) {
    const keys = [...new URLSearchParams(rawQueryString).keys()];
    const repeated = SINGLE_VALUED.find((name) => keys.filter((key) => key === name).length > 1);
    if (repeated !== undefined) throw new ValidationError(repeated, 'is given more than once: a listing takes one (only phase takes a comma-separated list)');
  }
  if (params.phase !== undefined) checkPhases(params.phase);
  const query = parseWith(schema, params);
  if (query.completedAfter && query.completedBefore && query.completedAfter >= query.completedBefore) {
    throw new ValidationError('completedAfter', 'must be earlier than completedBefore');
  }
  return {
    phases: query.phase,
    processName: query.processName,
    userName: query.userName,
    nodeId: query.nodeId,
    completedBefore: query.completedBefore,
    completedAfter: query.completedAfter,
    limit: query.limit ?? DEFAULT_LIMIT,
    cursor: query.cursor,
  };
}

/**
 * `phase` is split and upper-cased before the schema sees it, so the schema's own refusal would
 * name an item of the list it made (`phase.0`), and, as that item is absent from the query
 * parameters, call it missing. A phase it does not know is named here, with the phases there are.
 */
function checkPhases(given: string): void {
  const known: readonly string[] = PHASES;
  const phases = given.split(',').map((phase) => phase.trim().toUpperCase());
  const unknown = phases.find((phase) => !known.includes(phase));
  if (unknown === undefined) return;
  const expected = `${PHASES.join(', ')} (comma-separated, any case)`;
  throw new ValidationError('phase', unknown === '' ? `names no phase: give one or more of ${expected}` : `'${unknown}' is not a phase: give one or more of ${expected}`);
}
