/**
 * Pause and resume against the event source mapping as AWS Lambda answers it: an update while
 * the mapping is still changing state (a resume right after a pause: `Disabling`) is refused
 * with ResourceInUseException. The request must say so, and that repeating it finishes the
 * switch, rather than answer 500 "failed unexpectedly".
 */
import { ResourceInUseException, type LambdaClient } from '@aws-sdk/client-lambda';
import { EventSourceMappingSwitch } from '../../../lambdas/config-sync/adapters/lambda-event-sources';
import { pauseNode, resumeNode, type PauseDeps, type SwitchLease } from '../../../lambdas/config-sync/pause';
import { errorResponse } from '../../../lambdas/shared/http';
import type { ClusterNode } from '../../../lambdas/shared/cluster-nodes';
import { MemoryNodePauses as Pauses } from './fixtures';

const MASTER = { name: 'master-1', role: 'master' } as ClusterNode;
const SLAVE = { name: 'slave-1', role: 'slave' } as ClusterNode;

const lease: SwitchLease = { acquire: async () => true, release: async () => undefined };

/** A Lambda client whose mapping is still `Disabling`: every update is refused, as AWS refuses it. */
function changingMapping(): LambdaClient {
  const refusal = new ResourceInUseException({
    $metadata: { httpStatusCode: 400 },
    message: 'Cannot update the event source mapping because it is in use.',
  });
  return { send: () => Promise.reject(refusal) } as unknown as LambdaClient;
}

function body(result: { body?: string }): { code: string; message: string } {
  return JSON.parse(result.body ?? '{}') as { code: string; message: string };
}

/** The API's answer to the switch's refusal (undefined if it did not refuse). */
async function answerTo(switching: Promise<unknown>): Promise<ReturnType<typeof errorResponse>> {
  return errorResponse(await switching.then(() => undefined, (thrown: unknown) => thrown));
}

describe('a consumption switch refused while the mapping is changing state', () => {
  const deps = (): PauseDeps & { pauses: Pauses } => ({
    pauses: new Pauses(),
    consumption: new EventSourceMappingSwitch({ 'slave-1': 'a1b2c3d4-0000-0000-0000-000000000000' }, changingMapping()),
    lease,
  });

  it('answers a resume with 409 naming the node and telling to repeat it; the node stays paused', async () => {
    const paused = deps();
    await paused.pauses.write('slave-1', { since: '2025-01-01T00:00:00.000Z', by: 'master-1' });
    const answer = await answerTo(resumeNode(paused, MASTER, SLAVE));
    expect(answer.statusCode).toBe(409);
    expect(body(answer).message).toMatch(/slave-1/);
    expect(body(answer).message).toMatch(/repeat/i);
    expect(answer.headers?.['retry-after']).toBeDefined();
    expect(await paused.pauses.read('slave-1')).toBeDefined();
  });

  it('answers a pause the same way', async () => {
    const running = deps();
    const answer = await answerTo(pauseNode(running, MASTER, SLAVE, new Date()));
    expect(answer.statusCode).toBe(409);
    expect(body(answer).message).toMatch(/slave-1/);
    expect(body(answer).message).toMatch(/repeat/i);
  });
});
