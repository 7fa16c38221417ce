/**
 * The parts of the SNS client that sns-event-topic.ts sends with. A module of its own so that
 * it can be required on the first publish and bundled into a file of its own (DEFERRED_MODULES
 * in cdk/constructs/cluster-function.ts): the apply functions (which publish only in a capture
 * job) and the republish schedule (which publishes only when an event is pending) never parse
 * it at cold start.
 */
export { PublishBatchCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
