/**
 * The part of IAM the local runtime enforces: whether a function's role policy allows a
 * DynamoDB call, evaluated from the synthesized template's policy statements the way IAM
 * evaluates identity policies (an explicit Deny wins, then any Allow, else denied), with `*`
 * and `?` wildcards in actions and resources. Conditions (such as `dynamodb:LeadingKeys`) are
 * not evaluated: a statement with a condition counts as if it held, so the local check can
 * miss a condition that would refuse a call, never refuse a call AWS would allow.
 */
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './account';

export interface PolicyStatement {
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/** One permission a call needs: an action on a resource ARN. */
export interface Permission {
  readonly action: string;
  readonly resource: string;
}

/** Compiled patterns: the gate checks every DynamoDB call against the same few statements. */
const compiled = new Map<string, RegExp>();

function wildcard(pattern: string, flags = ''): RegExp {
  const key = `${flags}:${pattern}`;
  let regexp = compiled.get(key);
  if (regexp === undefined) {
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    regexp = new RegExp(`^${body}$`, flags);
    compiled.set(key, regexp);
  }
  return regexp;
}

function matches(statement: PolicyStatement, permission: Permission): boolean {
  return (
    statement.actions.some((action) => wildcard(action, 'i').test(permission.action)) &&
    statement.resources.some((resource) => wildcard(resource).test(permission.resource))
  );
}

export function isAllowed(statements: readonly PolicyStatement[], permission: Permission): boolean {
  if (statements.some((statement) => statement.effect === 'Deny' && matches(statement, permission))) return false;
  return statements.some((statement) => statement.effect === 'Allow' && matches(statement, permission));
}

export function tableArn(tableName: string, indexName?: string): string {
  const table = `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:table/${tableName}`;
  return indexName === undefined ? table : `${table}/index/${indexName}`;
}

type Body = Record<string, unknown>;

const TRANSACT_WRITE_ACTIONS: Record<string, string> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
};

/**
 * What a DynamoDB API call (`operation` from `X-Amz-Target`, with its JSON body) needs from
 * IAM, as the service authorizes it: a batch or transaction needs its per-table permissions.
 */
export function dynamoPermissions(operation: string, body: Body): Permission[] {
  const action = (name: string) => `dynamodb:${name}`;
  switch (operation) {
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys((body.RequestItems as Body | undefined) ?? {}).map((table) => ({ action: action(operation), resource: tableArn(table) }));
    case 'TransactWriteItems':
      return ((body.TransactItems as Body[] | undefined) ?? []).flatMap((item) =>
        Object.entries(item)
          .filter(([kind]) => kind in TRANSACT_WRITE_ACTIONS)
          .map(([kind, request]) => ({ action: action(TRANSACT_WRITE_ACTIONS[kind] as string), resource: tableArn(String((request as Body).TableName)) })),
      );
    case 'TransactGetItems':
      return ((body.TransactItems as { Get?: Body }[] | undefined) ?? []).map((item) => ({
        action: action('GetItem'),
        resource: tableArn(String(item.Get?.TableName)),
      }));
    case 'ListTables':
      return [{ action: action('ListTables'), resource: '*' }];
    default: {
      const table = typeof body.TableName === 'string' ? body.TableName : typeof body.TableArn === 'string' ? body.TableArn.split('/')[1] : undefined;
      if (table === undefined) return [{ action: action(operation), resource: '*' }];
      const index = typeof body.IndexName === 'string' ? body.IndexName : undefined;
      return [{ action: action(operation), resource: tableArn(table, index) }];
    }
  }
}
