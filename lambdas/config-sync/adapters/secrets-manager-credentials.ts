/**
 * A GeoServer node's credentials from AWS Secrets Manager (`GetSecretValue` of the one secret
 * the node's apply function may read).
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseCredentials, type GeoServerCredentials } from './geoserver-http';

export function secretsManagerCredentials(secretId: string, client = new SecretsManagerClient({})): () => Promise<GeoServerCredentials> {
  return async () => {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (SecretString === undefined) throw new Error(`Secret ${secretId} has no string value`);
    return parseCredentials(SecretString, `Secret ${secretId}`);
  };
}
