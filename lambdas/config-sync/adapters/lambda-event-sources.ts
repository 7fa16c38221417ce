/**
 * A consuming node's queue consumption is its apply function's SQS event source mapping:
 * disabling it stops Lambda polling the queue (messages stay in it, their retention running),
 * enabling it resumes from where it stopped. Each function may update only the mappings of
 * the cluster's nodes (cdk/constructs/config-sync-service.ts).
 */
import { LambdaClient, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { ConsumptionSwitchBusyError, type ConsumptionSwitch } from '../pause';
import { withoutArns } from '../../shared/errors';

/** What Lambda answers an update of a mapping that is still changing state (`Enabling`, `Disabling`, `Updating`). */
const BUSY_ERRORS = new Set(['ResourceInUseException', 'ResourceConflictException']);

export class EventSourceMappingSwitch implements ConsumptionSwitch {
  constructor(
    /** Node name -> the UUID of its apply function's event source mapping. */
    private readonly mappings: Readonly<Record<string, string>>,
    private readonly client: LambdaClient,
  ) {}

  async setEnabled(node: string, enabled: boolean): Promise<void> {
    const uuid = this.mappings[node];
    if (uuid === undefined) throw new Error(`Node ${node} has no event source mapping in NODE_EVENT_SOURCES`);
    try {
      await this.client.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: enabled }));
    } catch (error) {
      if (error instanceof Error && BUSY_ERRORS.has(error.name)) throw new ConsumptionSwitchBusyError(node, enabled, withoutArns(`${error.name}: ${error.message}`));
      throw error;
    }
  }
}
