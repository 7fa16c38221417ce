/**
 * A node's GeoServer credentials read from Secrets Manager (adapters/secrets-manager-credentials.ts):
 * the read a caller gives up on (its call's time ran out) is cancelled through the SDK's
 * `abortSignal`, not left running in the background of the function.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { secretsManagerCredentials } from '../../../../lambdas/config-sync/adapters/secrets-manager-credentials';

/** A client that answers `SecretString` and keeps what each send was given. */
function client(secret: string) {
  const sent: { input: unknown; abortSignal: AbortSignal | undefined }[] = [];
  const fake = {
    async send(command: GetSecretValueCommand, options?: { abortSignal?: AbortSignal }) {
      sent.push({ input: command.input, abortSignal: options?.abortSignal });
      return { SecretString: secret };
    },
  };
  return { sent, client: fake as unknown as SecretsManagerClient };
}

test('the read is given the caller\'s signal, by which the SDK cancels it', async () => {
  const { sent, client: sdk } = client('{"username": "admin", "password": "pw"}');
  const signal = new AbortController().signal;
  const load = secretsManagerCredentials('gs-main/geoserver', sdk);
  await expect(load(signal)).resolves.toEqual({ username: 'admin', password: 'pw' });
  // Without one (a caller with no bound of its own), none.
  await load();
  expect(sent.map((call) => call.input)).toEqual([{ SecretId: 'gs-main/geoserver' }, { SecretId: 'gs-main/geoserver' }]);
  expect(sent[0]!.abortSignal).toBe(signal);
  expect(sent[1]!.abortSignal).toBeUndefined();
});
