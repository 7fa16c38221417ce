/**
 * The node credentials table: its key, and the one item shape stored per node (the SHA-256 of
 * the token's secret, never the token). Read by the authorizer; written by the token tool and
 * the local runtime through lambdas/shared/adapters/credentials-store.ts; declared by the
 * NodeAuth construct.
 */
export const CREDENTIALS_TABLE = {
  partitionKey: 'nodeId',
} as const;

export interface CredentialsItem {
  readonly nodeId: string;
  readonly secretHash: string;
  /** ISO 8601; when the token was issued (a rotation replaces the item). */
  readonly createdAt: string;
}
