import type { Context } from 'aws-lambda';

const savedEnv = { ...process.env };

/**
 * Loads a fresh copy of the HTTP edge and its observability module with Powertools writing (the
 * environment a deployed function has, until the test ends), and captures stdout and stderr.
 */
function loadInstrumented(env: Record<string, string> = {}) {
  Object.assign(process.env, {
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_SERVICE_NAME: 'test-cluster',
    POWERTOOLS_METRICS_NAMESPACE: 'GeoServerCluster',
    ...env,
  });
  delete process.env.POWERTOOLS_METRICS_DISABLED;
  let modules!: { http: typeof import('../../../lambdas/shared/http'); observability: typeof import('../../../lambdas/shared/observability') };
  jest.isolateModules(() => {
    modules = { http: require('../../../lambdas/shared/http'), observability: require('../../../lambdas/shared/observability') };
  });
  const lines: Record<string, any>[] = [];
  // Lambda reads both streams (Powertools writes warnings and errors to stderr).
  for (const stream of [process.stdout, process.stderr]) {
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      return true;
    });
  }
  return { ...modules, lines };
}

const context = (awsRequestId: string) =>
  ({ awsRequestId, functionName: 'PutStatus', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:1:function:PutStatus', memoryLimitInMB: '256' }) as Context;

const request = (requestId: string) =>
  ({
    routeKey: 'PUT /executions/{executionId}',
    rawPath: '/executions/e-1',
    headers: {},
    requestContext: { requestId, authorizer: { lambda: { nodeId: 'master-1', role: 'master' } } },
  }) as never;

afterEach(() => {
  jest.restoreAllMocks();
  process.env = { ...savedEnv };
});

describe('instrumented handlers', () => {
  it('log JSON lines with the Lambda and API request ids and the keys the handler appended, and only for that request', async () => {
    const { http, observability, lines } = loadInstrumented();
    const handler = http.httpHandler(async (event: { pathParameters?: Record<string, string | undefined> }) => {
      if (event.pathParameters?.executionId) observability.logger.appendKeys({ executionId: event.pathParameters.executionId });
      observability.logger.info('written');
      return http.json(200, {});
    });
    await handler({ ...(request('api-1') as object), pathParameters: { executionId: 'e-1' } } as never, context('lambda-1'));
    await handler(request('api-2'), context('lambda-2'));

    const written = lines.filter((line) => line.message === 'written');
    expect(written).toHaveLength(2);
    expect(written[0]).toMatchObject({
      level: 'INFO',
      service: 'test-cluster',
      function_request_id: 'lambda-1',
      apiRequestId: 'api-1',
      route: 'PUT /executions/{executionId}',
      caller: 'master-1',
      executionId: 'e-1',
    });
    // A warm container's next request does not inherit the previous one's keys.
    expect(written[1]).toMatchObject({ function_request_id: 'lambda-2', apiRequestId: 'api-2' });
    expect(written[1]).not.toHaveProperty('executionId');
  });

  it('flush recorded metrics once per invocation as embedded metric format, per-node ones with the node dimension', async () => {
    const { observability, lines } = loadInstrumented();
    const { METRIC, MetricUnit } = observability;
    const handler = observability.instrumented(async () => {
      observability.metrics.addMetric(METRIC.executionsCreated, MetricUnit.Count, 1);
      observability.addNodeMetric(METRIC.lag, 'slave-1', MetricUnit.Count, 7);
      throw new Error('the handler failed after recording');
    });
    await expect(handler({}, context('lambda-3'))).rejects.toThrow('the handler failed');

    const emf = lines.filter((line) => line._aws);
    const created = emf.find((line) => METRIC.executionsCreated in line);
    const lag = emf.find((line) => METRIC.lag in line);
    expect(created).toMatchObject({ service: 'test-cluster', [METRIC.executionsCreated]: 1 });
    expect(created?._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'GeoServerCluster', Dimensions: [['service']] });
    expect(lag).toMatchObject({ node: 'slave-1', [METRIC.lag]: 7 });
    expect(lag?._aws.CloudWatchMetrics[0].Dimensions[0]).toEqual(expect.arrayContaining(['service', 'node']));
    expect(created).not.toHaveProperty('node');
  });

  it("log at the cluster's level (POWERTOOLS_LOG_LEVEL) under Lambda's log filter, which the stack keeps at INFO so that metric lines pass", async () => {
    // As Lambda runs a function whose LoggingConfig has ApplicationLogLevel INFO (cluster-function.ts observe).
    const { observability, lines } = loadInstrumented({ POWERTOOLS_LOG_LEVEL: 'WARN', AWS_LAMBDA_LOG_LEVEL: 'INFO' });
    await observability.instrumented(async () => {
      observability.logger.info('below the cluster level');
      observability.logger.warn('at the cluster level');
      observability.metrics.addMetric(observability.METRIC.executionsCreated, observability.MetricUnit.Count, 1);
    })({}, context('lambda-5'));

    expect(lines.filter((line) => line.message !== undefined).map((line) => [line.level, line.message])).toEqual([['WARN', 'at the cluster level']]);
    // The metric line has no level: Lambda files it as INFO, so its filter must let INFO through.
    const emf = lines.filter((line) => line._aws);
    expect(emf).toHaveLength(1);
    expect(emf[0]).not.toHaveProperty('level');
    // Lambda's own variable is left as Lambda set it.
    expect(process.env.AWS_LAMBDA_LOG_LEVEL).toBe('INFO');
  });

  it('write nothing when nothing was recorded', async () => {
    const { observability, lines } = loadInstrumented();
    await observability.instrumented(async () => 'done')({}, context('lambda-4'));
    expect(lines).toEqual([]);
  });
});
