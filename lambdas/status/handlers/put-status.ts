/** PUT /executions/{executionId}: a cluster node creates or updates an execution's status. */
import { ValidationError } from '../../shared/errors';
import { callerNode, httpHandler, parseJsonBody, pathParam } from '../../shared/http';
import { logger, metrics, METRIC, MetricUnit } from '../../shared/observability';
import { parseWith } from '../../shared/validation';
import { statusStoreFromEnv } from '../adapters/store-from-env';
import type { ExecutionStatus } from '../execution';
import { executionIdSchema, SERVER_FIELDS, statusWriteSchema } from '../schemas';
import { writeStatus } from '../service';
import { statusResponse, writeCondition } from '../status-http';

const store = statusStoreFromEnv();
/** Parsed on every request: built at cold start. */
const writeSchema = statusWriteSchema();

export const handler = httpHandler(async (event) => {
  const caller = callerNode(event);
  const executionId = parseWith(executionIdSchema, pathParam(event, 'executionId'), 'executionId');
  logger.appendKeys({ executionId, node: caller.nodeId });
  const body = parseJsonBody(event);
  if (typeof body === 'object' && body !== null) {
    const serverField = SERVER_FIELDS.find((field) => field in body);
    if (serverField) throw new ValidationError(serverField, 'is set by the server and cannot be written');
  }
  const write = parseWith(writeSchema, body);
  const condition = writeCondition(event);

  const outcome = await writeStatus(store, write, { executionId, nodeId: caller.nodeId }, condition, () => new Date());
  countTransition(outcome.created, outcome.status);
  return statusResponse(outcome.created ? 201 : 200, outcome.status, outcome.dismissed ? { 'x-execution-dismissed': 'true' } : {});
});

/** Creations and completions, counted once: a completion is the write that set `completionTime`. */
function countTransition(created: boolean, status: ExecutionStatus): void {
  if (created) metrics.addMetric(METRIC.executionsCreated, MetricUnit.Count, 1);
  if (status.completionTime === undefined || status.completionTime !== status.lastUpdated) return;
  if (status.phase === 'SUCCEEDED') metrics.addMetric(METRIC.executionsCompleted, MetricUnit.Count, 1);
  if (status.phase === 'FAILED') metrics.addMetric(METRIC.executionsFailed, MetricUnit.Count, 1);
  logger.info('execution completed', { phase: status.phase });
}
