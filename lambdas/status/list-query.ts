/**
 * GET /executions query parameters to the store's listing query: the one mapping, used by the
 * function and by the listing bench (which counts what each shape reads through the same store).
 */
import { ValidationError } from '../shared/errors';
import { parseWith } from '../shared/validation';
import type { ListQuery } from './ports';
import { listQuerySchema } from './schemas';

const DEFAULT_LIMIT = 100;
/** Parsed on every request: built at cold start. */
const schema = listQuerySchema();

export function listQueryOf(params: Record<string, string | undefined>): ListQuery {
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
