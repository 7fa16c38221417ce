/**
 * The pause switch's composition root, apart from ./from-env.ts so that only the function that
 * pauses nodes bundles the Lambda client.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { consumingNodes, type ClusterMembership } from '../cluster';
import { CONFIG_SYNC_ENV } from '../env-names';
import type { PauseDeps } from '../pause';
import { nodePausesFromEnv, switchLeaseFromEnv } from './from-env';
import { nodeEventSourcesFromValue } from '../node-event-sources';
import { requireEnv } from '../../shared/env';
import { EventSourceMappingSwitch } from './lambda-event-sources';
import { withoutSdkLogging } from '../../shared/sdk-client';

/** Pauses and the consumption switch (`NODE_EVENT_SOURCES`: each consuming node's event source mapping UUID, ../node-event-sources.ts). */
export function pauseDepsFromEnv(membership: ClusterMembership): PauseDeps {
  const mappings = nodeEventSourcesFromValue(
    CONFIG_SYNC_ENV.nodeEventSources,
    requireEnv(CONFIG_SYNC_ENV.nodeEventSources),
    consumingNodes(membership).map((node) => node.name),
  );
  return { pauses: nodePausesFromEnv(), consumption: new EventSourceMappingSwitch(mappings, withoutSdkLogging(new LambdaClient({}))), lease: switchLeaseFromEnv() };
}
