/**
 * The parts of the SQS client that the config-sync adapters send with. A module of its own so
 * that it can be required on first use and bundled into a file of its own (DEFERRED_MODULES in
 * cdk/constructs/cluster-function.ts): an apply function receives its messages from the event
 * source mapping and sends to SQS only to delay a failed batch or queue a job's next slice.
 */
export {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
