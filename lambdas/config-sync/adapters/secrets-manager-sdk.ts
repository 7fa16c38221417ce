/**
 * The parts of the Secrets Manager client that secrets-manager-credentials.ts uses. A module
 * of its own so that it can be required when the credentials are first needed and bundled into
 * a file of its own (DEFERRED_MODULES in cdk/constructs/cluster-function.ts): the apply
 * functions of nodes without a GeoServer share the bundle and never need it.
 */
export { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
