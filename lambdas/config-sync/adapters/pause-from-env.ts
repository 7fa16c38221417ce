/**
 * The pause switch's composition root, apart from ./from-env.ts so that only the function that
 * pauses nodes bundles the Lambda client.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { consumingNodes, type ClusterMembership } from '../cluster';
import { CONFIG_SYNC_ENV } from '../env-names';
import type { PauseDeps } from '../pause';
import { nodeMapEnv, nodePausesFromEnv, switchLeaseFromEnv } from './from-env';
import { requireEnv } from '../../shared/env';
import { EventSourceMappingSwitch } from './lambda-event-sources';
import { withoutSdkLogging } from '../../shared/sdk-client';

/** Pauses and the consumption switch (`NODE_EVENT_SOURCES`: node -> event source mapping UUID), for every consuming node. */
export function pauseDepsFromEnv(membership: ClusterMembership): PauseDeps {
  const mappings = nodeMapEnv(CONFIG_SYNC_ENV.nodeEventSources, requireEnv(CONFIG_SYNC_ENV.nodeEventSources), 'event source mapping UUIDs');
  for (const node of consumingNodes(membership)) {
    if (!Object.hasOwn(mappings, node.name)) throw new Error(`Environment variable ${CONFIG_SYNC_ENV.nodeEventSources} has no mapping for node ${node.name}`);
  }
  return { pauses: nodePausesFromEnv(), consumption: new EventSourceMappingSwitch(mappings, withoutSdkLogging(new LambdaClient({}))), lease: switchLeaseFromEnv() };
}
