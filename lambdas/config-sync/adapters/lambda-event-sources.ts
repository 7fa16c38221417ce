/**
 * A consuming node's queue consumption is its apply function's SQS event source mapping:
 * disabling it stops Lambda polling the queue (messages stay in it, their retention running),
 * enabling it resumes from where it stopped. Each function may update only the mappings of
 * the cluster's nodes (cdk/constructs/config-sync-service.ts).
 */
import { LambdaClient, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import type { ConsumptionSwitch } from '../pause';

export class EventSourceMappingSwitch implements ConsumptionSwitch {
  constructor(
    /** Node name -> the UUID of its apply function's event source mapping. */
    private readonly mappings: Readonly<Record<string, string>>,
    private readonly client: LambdaClient,
  ) {}

  async setEnabled(node: string, enabled: boolean): Promise<void> {
    const uuid = this.mappings[node];
    if (uuid === undefined) throw new Error(`Node ${node} has no event source mapping in NODE_EVENT_SOURCES`);
    await this.client.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: enabled }));
  }
}
