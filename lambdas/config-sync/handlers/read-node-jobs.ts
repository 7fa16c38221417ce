/**
 * GET /nodes/{node}/jobs/{id}: a job of the node, with its progress and outcome.
 * GET /nodes/{node}/drift: the differences the node's latest drift check, reconcile or capture
 * found between its GeoServer and its store (`missing`, `extra`, `different` with the
 * properties that differ), with that job; paged (`limit`, default 100, at most 1000; `after`,
 * the `next` of the previous page). A check reads the whole GeoServer, which takes longer than
 * a request may last for a large catalog: POST /nodes/{node}/drift starts one.
 * The node itself, a master, or an operator may read.
 */
import { AppError, ForbiddenError, NotFoundError } from '../../shared/errors';
import { callerIdentity, httpHandler, json, pathParam, type HttpEvent } from '../../shared/http';
import { OPERATOR_ROLE } from '../../shared/node-token';
import { parseQuery } from '../../shared/query';
import { assertCanOperate, findNode } from '../cluster';
import { jobStoreFromEnv, membershipFromEnv } from '../adapters/from-env';
import { isFinal, JOB_ID_PATTERN, jobView, noDriftCheckMessage } from '../jobs';
import { driftQuerySchema } from '../request-schemas';

const membership = membershipFromEnv();
/** Parsed on every request: built at cold start. */
const driftQuery = driftQuerySchema();
const jobs = jobStoreFromEnv();

export const handler = httpHandler(async (event: HttpEvent) => {
  const caller = callerIdentity(event);
  const target = findNode(membership, pathParam(event, 'node'));
  if (caller.role !== OPERATOR_ROLE) assertCanOperate(findNode(membership, caller.nodeId), target, 'read the jobs of');
  else if (!caller.nodeId) throw new ForbiddenError('unknown operator');
  const id = event.pathParameters?.id;
  if (id !== undefined) {
    // Job ids are UUIDs: anything else names no job (and never reaches the table as a key).
    const job = JOB_ID_PATTERN.test(id) ? await jobs.read(target.name, id) : undefined;
    if (!job) throw new NotFoundError('job', id);
    return json(200, { job: jobView(job) }, { 'cache-control': 'no-store' });
  }
  const { limit, after } = parseQuery(driftQuery, event.queryStringParameters);
  const job = await jobs.latestScan(target.name);
  if (!job) throw new AppError(404, 'NOT_FOUND', noDriftCheckMessage(target.name));
  const scanned = isFinal(job.state) ? job.state === 'succeeded' || job.phase === 'fix' : job.phase === 'fix' || job.phase === 'done';
  const entries = scanned ? await jobs.readDifferences(target.name, job.id) : [];
  const page = entries.slice(after, after + limit);
  const next = after + limit < entries.length ? String(after + limit) : undefined;
  return json(
    200,
    {
      node: target.name,
      job: jobView(job),
      complete: scanned,
      counts: { missing: job.progress.missing, extra: job.progress.extra, different: job.progress.different },
      differences: page,
      ...(next === undefined ? {} : { next }),
    },
    { 'cache-control': 'no-store' },
  );
});
