/**
 * The part of IAM the local runtime enforces: whether a function's role policy allows a
 * DynamoDB call, evaluated from the synthesized template's policy statements the way IAM
 * evaluates identity policies (an explicit Deny wins, then any Allow, else denied), with `*`
 * and `?` wildcards in actions and resources. Of conditions, the ones this stack's roles use to
 * scope DynamoDB writes and reads are evaluated as IAM does: `ForAllValues:StringEquals` and
 * `ForAllValues:StringLike` (patterns with `*` and `?`) on `dynamodb:LeadingKeys` (the partition
 * key values a call touches: a node's apply function may only touch its own partition, a
 * publisher the log's and the Idempotency-Key claims') and `dynamodb:Attributes` (the attributes
 * a put writes). Any other condition, or one of these where the gate cannot tell the request's
 * values, counts as holding on an Allow and as not holding on a Deny: the local check can still
 * miss a refusal, never refuse a call AWS would allow.
 */
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './account';

export interface PolicyStatement {
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  /** The statement's `Condition` block: operator -> condition key -> values. */
  readonly condition?: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
}

/** One permission a call needs: an action on a resource ARN. */
export interface Permission {
  readonly action: string;
  readonly resource: string;
  /** The request's values of the condition keys the gate evaluates, where it knows them. */
  readonly context?: Readonly<Partial<Record<EvaluatedKey, readonly string[]>>>;
}

/** The condition keys evaluated (with `ForAllValues:StringEquals` or `ForAllValues:StringLike`); others count as unknown. */
const EVALUATED_KEYS = ['dynamodb:LeadingKeys', 'dynamodb:Attributes'] as const;
type EvaluatedKey = (typeof EVALUATED_KEYS)[number];

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

/**
 * Whether a statement's condition holds for a request: `true`, `false`, or `undefined` when some
 * part of it cannot be told here (an operator or key the gate does not evaluate, or a request
 * whose values of the key it does not know). Condition keys are case-insensitive, values not.
 */
function conditionHolds(statement: PolicyStatement, permission: Permission): boolean | undefined {
  let holds: boolean | undefined = true;
  for (const [operator, keys] of Object.entries(statement.condition ?? {})) {
    for (const [key, allowed] of Object.entries(keys)) {
      const evaluated = EVALUATED_KEYS.find((name) => name.toLowerCase() === key.toLowerCase());
      const values = evaluated === undefined ? undefined : permission.context?.[evaluated];
      const like = operator === 'ForAllValues:StringLike';
      if ((operator !== 'ForAllValues:StringEquals' && !like) || values === undefined) {
        holds = holds === false ? false : undefined;
        continue;
      }
      // ForAllValues: every value of the request must be among the condition's values (StringLike:
      // match one of them, with `*` and `?` wildcards, case-sensitively).
      const among = (value: string) => (like ? allowed.some((pattern) => wildcard(pattern).test(value)) : allowed.includes(value));
      if (!values.every(among)) holds = false;
    }
  }
  return holds;
}

export function isAllowed(statements: readonly PolicyStatement[], permission: Permission): boolean {
  const applies = (statement: PolicyStatement, counts: (holds: boolean | undefined) => boolean) =>
    matches(statement, permission) && counts(conditionHolds(statement, permission));
  if (statements.some((statement) => statement.effect === 'Deny' && applies(statement, (holds) => holds === true))) return false;
  return statements.some((statement) => statement.effect === 'Allow' && applies(statement, (holds) => holds !== false));
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

type Item = Record<string, Record<string, unknown> | undefined>;

/** A key attribute's value as IAM compares it: the string of an `S`, `N` or `B` value. */
function keyValue(value: Record<string, unknown> | undefined): string | undefined {
  const scalar = value?.S ?? value?.N ?? value?.B;
  return typeof scalar === 'string' ? scalar : undefined;
}

/**
 * The condition context of a request on one table: `dynamodb:LeadingKeys` from the partition
 * key values of its keys or items (unknown when one lacks it), `dynamodb:Attributes` from the
 * attribute names of the items a put writes.
 */
function itemContext(partitionKey: string | undefined, keys: readonly (Item | undefined)[], items: readonly (Item | undefined)[] = []): Permission['context'] {
  const all = [...keys, ...items];
  const leading = partitionKey === undefined ? [] : all.map((item) => keyValue(item?.[partitionKey]));
  return {
    ...(partitionKey !== undefined && all.length > 0 && leading.every((value) => value !== undefined) ? { 'dynamodb:LeadingKeys': leading as string[] } : {}),
    ...(items.length > 0 && items.every((item) => item !== undefined) ? { 'dynamodb:Attributes': [...new Set(items.flatMap((item) => Object.keys(item ?? {})))] } : {}),
  };
}

/** The partition key value a query's `KeyConditionExpression` names (`#pk = :v` or `pk = :v`). */
function queriedPartition(body: Body, partitionKey: string | undefined): string | undefined {
  if (partitionKey === undefined || typeof body.KeyConditionExpression !== 'string') return undefined;
  const names = (body.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (body.ExpressionAttributeValues ?? {}) as Item;
  for (const [, name, placeholder] of body.KeyConditionExpression.matchAll(/(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)/g)) {
    if ((name?.startsWith('#') ? names[name] : name) === partitionKey) return keyValue(values[placeholder as string]);
  }
  return undefined;
}

/**
 * What a DynamoDB API call (`operation` from `X-Amz-Target`, with its JSON body) needs from
 * IAM, as the service authorizes it: a batch or transaction needs its per-table permissions,
 * each with the condition context of its own keys and items. `partitionKeyOf` names a table's
 * partition key attribute (from the template); without it no leading keys are known.
 */
export function dynamoPermissions(operation: string, body: Body, partitionKeyOf: (table: string) => string | undefined = () => undefined): Permission[] {
  return permissionsOf(operation, body, partitionKeyOf).map(({ context, ...permission }) =>
    context === undefined || Object.keys(context).length === 0 ? permission : { ...permission, context },
  );
}

function permissionsOf(operation: string, body: Body, partitionKeyOf: (table: string) => string | undefined): Permission[] {
  const action = (name: string) => `dynamodb:${name}`;
  switch (operation) {
    case 'BatchGetItem':
      return Object.entries((body.RequestItems as Record<string, { Keys?: Item[] }> | undefined) ?? {}).map(([table, request]) => ({
        action: action(operation),
        resource: tableArn(table),
        context: itemContext(partitionKeyOf(table), request.Keys ?? []),
      }));
    case 'BatchWriteItem':
      return Object.entries((body.RequestItems as Record<string, { PutRequest?: { Item?: Item }; DeleteRequest?: { Key?: Item } }[]> | undefined) ?? {}).map(
        ([table, writes]) => ({
          action: action(operation),
          resource: tableArn(table),
          context: itemContext(
            partitionKeyOf(table),
            writes.filter((write) => write.DeleteRequest).map((write) => write.DeleteRequest?.Key),
            writes.filter((write) => write.PutRequest).map((write) => write.PutRequest?.Item),
          ),
        }),
      );
    case 'TransactWriteItems':
      return ((body.TransactItems as Body[] | undefined) ?? []).flatMap((item) =>
        Object.entries(item)
          .filter(([kind]) => kind in TRANSACT_WRITE_ACTIONS)
          .map(([kind, request]) => {
            const { TableName, Key, Item: put } = request as { TableName?: string; Key?: Item; Item?: Item };
            return {
              action: action(TRANSACT_WRITE_ACTIONS[kind] as string),
              resource: tableArn(String(TableName)),
              context: itemContext(partitionKeyOf(String(TableName)), put ? [] : [Key], put ? [put] : []),
            };
          }),
      );
    case 'TransactGetItems':
      return ((body.TransactItems as { Get?: Body }[] | undefined) ?? []).map((item) => ({
        action: action('GetItem'),
        resource: tableArn(String(item.Get?.TableName)),
        context: itemContext(partitionKeyOf(String(item.Get?.TableName)), [item.Get?.Key as Item | undefined]),
      }));
    case 'ListTables':
      return [{ action: action('ListTables'), resource: '*' }];
    default: {
      const table = typeof body.TableName === 'string' ? body.TableName : typeof body.TableArn === 'string' ? body.TableArn.split('/')[1] : undefined;
      if (table === undefined) return [{ action: action(operation), resource: '*' }];
      const index = typeof body.IndexName === 'string' ? body.IndexName : undefined;
      const partitionKey = partitionKeyOf(table);
      // A query of an index is scoped by the table's partition key only when it queries the table.
      const queried = operation === 'Query' && index === undefined ? queriedPartition(body, partitionKey) : undefined;
      const context =
        operation === 'Query' ? (queried === undefined ? {} : { 'dynamodb:LeadingKeys': [queried] })
        : operation === 'PutItem' ? itemContext(partitionKey, [], [body.Item as Item | undefined])
        : 'Key' in body ? itemContext(partitionKey, [body.Key as Item | undefined])
        : {};
      return [{ action: action(operation), resource: tableArn(table, index), context }];
    }
  }
}
