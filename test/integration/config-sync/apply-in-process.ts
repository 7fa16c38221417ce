/**
 * A node's apply function run in this Jest process, for the integration files that hand it SQS
 * records themselves: its module loaded apart (`jest.isolateModules`) with the node's environment
 * set, which stays set while it runs, since its job path reads the environment when the first job
 * record comes (lambdas/config-sync/job-slices.ts), as in Lambda; and the records it is handed.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';

export type ApplyHandler = (event: SQSEvent, context?: Partial<Context>) => Promise<SQSBatchResponse>;

/** The apply handler of the node `nodeEnv` describes (NODE_NAME, GEOSERVER_URL, ...). */
export function applyInProcess(nodeEnv: Readonly<Record<string, string>>): ApplyHandler {
  const withNodeEnv = async <T>(run: () => T | Promise<T>): Promise<T> => {
    Object.assign(process.env, nodeEnv);
    try {
      return await run();
    } finally {
      for (const name of Object.keys(nodeEnv)) delete process.env[name];
    }
  };
  let handler: ApplyHandler | undefined;
  Object.assign(process.env, nodeEnv);
  try {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      handler = (require('../../../lambdas/config-sync/handlers/apply-events') as { handler: ApplyHandler }).handler;
    });
  } finally {
    for (const name of Object.keys(nodeEnv)) delete process.env[name];
  }
  const loaded = handler!;
  return (event, context) => withNodeEnv(() => loaded(event, context));
}

/** A job's message as the node's queue delivers it; `attempt` is its receive count (and in its message id). */
export function jobMessage(id: string, attempt?: number): SQSEvent {
  return {
    Records: [
      {
        messageId: attempt === undefined ? `job-${id}` : `job-${id}-${attempt}`,
        receiptHandle: attempt === undefined ? `job-${id}` : `job-${id}-${attempt}`,
        body: JSON.stringify({ runJob: id }),
        attributes: { ApproximateReceiveCount: String(attempt ?? 1) } as never,
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:queue.fifo',
        awsRegion: 'us-east-1',
      },
    ],
  };
}

/** A POST as API Gateway hands it to a function, from `node` with the role `nodes` gives it. */
export function nodePost(nodes: Readonly<Record<string, string>>, node: string, path: Record<string, string>, body?: unknown): unknown {
  return {
    version: '2.0',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    isBase64Encoded: false,
    pathParameters: path,
    requestContext: { http: { method: 'POST' }, authorizer: { lambda: { nodeId: node, role: nodes[node] } } },
  };
}
