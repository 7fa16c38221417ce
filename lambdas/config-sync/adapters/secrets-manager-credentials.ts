/**
 * A GeoServer node's credentials from AWS Secrets Manager (`GetSecretValue` of the one secret
 * the node's apply function may read).
 *
 * The client is loaded and created when the credentials are first needed, not at cold start:
 * every node's apply function shares one bundle, and most nodes have no GeoServer. It is
 * required from ./secrets-manager-sdk.ts, bundled into a file of its own beside the function's
 * index.js (DEFERRED_MODULES in cdk/constructs/cluster-function.ts).
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseCredentials, type GeoServerCredentials } from './geoserver-http';
import { withoutSdkLogging } from '../../shared/sdk-client';

type SecretsManagerSdk = typeof import('./secrets-manager-sdk');

/** @param client the client to read with; by default one created on the first read */
export function secretsManagerCredentials(secretId: string, client?: SecretsManagerClient): (signal?: AbortSignal) => Promise<GeoServerCredentials> {
  // `signal`: the caller gave up waiting (its call's time ran out); the SDK then cancels the request.
  return async (signal) => {
    // The specifier is DEFERRED_MODULES' (cdk/constructs/cluster-function.ts): keep them alike.
    const sdk = require('./secrets-manager-sdk') as SecretsManagerSdk;
    client ??= withoutSdkLogging(new sdk.SecretsManagerClient({}));
    const { SecretString } = await client.send(new sdk.GetSecretValueCommand({ SecretId: secretId }), signal ? { abortSignal: signal } : {});
    if (SecretString === undefined) throw new Error(`Secret ${secretId} has no string value`);
    return parseCredentials(SecretString, `Secret ${secretId}`);
  };
}
