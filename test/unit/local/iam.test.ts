import { dynamoPermissions, isAllowed, tableArn, type PolicyStatement } from '../../../local/iam';

const TABLE = tableArn('geo-status');

describe('isAllowed (identity policy evaluation)', () => {
  const statements: PolicyStatement[] = [
    { effect: 'Allow', actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resources: [TABLE] },
    { effect: 'Allow', actions: ['dynamodb:Query'], resources: [`${TABLE}/index/*`] },
    { effect: 'Allow', actions: ['dynamodb:Describe*'], resources: ['*'] },
    { effect: 'Deny', actions: ['dynamodb:PutItem'], resources: [tableArn('geo-status-archive')] },
    { effect: 'Allow', actions: ['dynamodb:*'], resources: [tableArn('geo-status-archive')] },
  ];

  it.each([
    ['dynamodb:GetItem', TABLE, true],
    ['DynamoDB:getitem', TABLE, true], // actions are case-insensitive
    ['dynamodb:UpdateItem', TABLE, false], // not listed
    ['dynamodb:GetItem', tableArn('geo-other'), false], // another table
    ['dynamodb:GetItem', `${TABLE}-copy`, false], // a prefix is not a match
    ['dynamodb:Query', `${TABLE}/index/byCompletionTime`, true],
    ['dynamodb:Query', TABLE, false], // the index grant does not cover the table
    ['dynamodb:DescribeTable', tableArn('anything'), true], // action and resource wildcards
    ['dynamodb:PutItem', tableArn('geo-status-archive'), false], // an explicit deny wins over an allow
    ['dynamodb:GetItem', tableArn('geo-status-archive'), true],
  ] as const)('%s on %s: %s', (action, resource, allowed) => {
    expect(isAllowed(statements, { action, resource })).toBe(allowed);
  });

  it('denies everything when there is no statement', () => {
    expect(isAllowed([], { action: 'dynamodb:GetItem', resource: TABLE })).toBe(false);
  });
});

describe('dynamoPermissions (what a call needs)', () => {
  it('a single-item or scan call needs its action on its table, a query on an index the index', () => {
    expect(dynamoPermissions('UpdateItem', { TableName: 'geo-status', Key: {} })).toEqual([{ action: 'dynamodb:UpdateItem', resource: TABLE }]);
    expect(dynamoPermissions('Query', { TableName: 'geo-status', IndexName: 'byHeartbeat' })).toEqual([
      { action: 'dynamodb:Query', resource: `${TABLE}/index/byHeartbeat` },
    ]);
    expect(dynamoPermissions('Scan', { TableName: 'geo-status' })).toEqual([{ action: 'dynamodb:Scan', resource: TABLE }]);
  });

  it('a batch needs its action on every table it names', () => {
    expect(dynamoPermissions('BatchGetItem', { RequestItems: { 'geo-status': {}, 'geo-store': {} } })).toEqual([
      { action: 'dynamodb:BatchGetItem', resource: TABLE },
      { action: 'dynamodb:BatchGetItem', resource: tableArn('geo-store') },
    ]);
  });

  it('a transaction needs the per-item action of each of its items', () => {
    expect(
      dynamoPermissions('TransactWriteItems', {
        TransactItems: [
          { Put: { TableName: 'geo-store' } },
          { Update: { TableName: 'geo-store' } },
          { ConditionCheck: { TableName: 'geo-log' } },
          { Delete: { TableName: 'geo-store' } },
        ],
      }),
    ).toEqual([
      { action: 'dynamodb:PutItem', resource: tableArn('geo-store') },
      { action: 'dynamodb:UpdateItem', resource: tableArn('geo-store') },
      { action: 'dynamodb:ConditionCheckItem', resource: tableArn('geo-log') },
      { action: 'dynamodb:DeleteItem', resource: tableArn('geo-store') },
    ]);
    expect(dynamoPermissions('TransactGetItems', { TransactItems: [{ Get: { TableName: 'geo-store' } }] })).toEqual([
      { action: 'dynamodb:GetItem', resource: tableArn('geo-store') },
    ]);
  });

  it('a call that names no table needs its action on every resource', () => {
    expect(dynamoPermissions('ListTables', {})).toEqual([{ action: 'dynamodb:ListTables', resource: '*' }]);
  });
});

describe('conditions the stack scopes DynamoDB with', () => {
  const STORE = tableArn('geo-node-store');
  const LOG = tableArn('geo-event-log');
  const partitionKeyOf = (table: string) => ({ 'geo-node-store': 'node', 'geo-event-log': 'cluster' })[table];
  // As a node's apply function has them: its own partition of the store, and a void marker's attributes in the log.
  const statements: PolicyStatement[] = [
    {
      effect: 'Allow',
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'],
      resources: [STORE],
      condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['slave-1'] } },
    },
    {
      effect: 'Allow',
      actions: ['dynamodb:PutItem'],
      resources: [LOG],
      condition: { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['cluster', 'sequence', 'voided'] } },
    },
  ];
  const allowed = (operation: string, body: Record<string, unknown>) =>
    dynamoPermissions(operation, body, partitionKeyOf).every((permission) => isAllowed(statements, permission));
  const item = (node: string) => ({ node: { S: node }, key: { S: '#cursor' } });

  it('dynamodb:LeadingKeys: a call on its own partition passes, one on another node\'s is refused', () => {
    expect(allowed('GetItem', { TableName: 'geo-node-store', Key: item('slave-1') })).toBe(true);
    expect(allowed('GetItem', { TableName: 'geo-node-store', Key: item('slave-2') })).toBe(false);
    expect(allowed('PutItem', { TableName: 'geo-node-store', Item: { ...item('master-1'), cursor: { N: '3' } } })).toBe(false);
    expect(allowed('BatchGetItem', { RequestItems: { 'geo-node-store': { Keys: [item('slave-1'), item('slave-2')] } } })).toBe(false);
    const query = (node: string) => ({
      TableName: 'geo-node-store',
      KeyConditionExpression: '#node = :node AND begins_with(#key, :prefix)',
      ExpressionAttributeNames: { '#node': 'node', '#key': 'key' },
      ExpressionAttributeValues: { ':node': { S: node }, ':prefix': { S: 'object#' } },
    });
    expect(allowed('Query', query('slave-1'))).toBe(true);
    expect(allowed('Query', query('slave-2'))).toBe(false);
  });

  it('dynamodb:Attributes: a put of only the listed attributes passes, one with another attribute is refused', () => {
    const voided = { cluster: { S: 'geo' }, sequence: { N: '7' }, voided: { BOOL: true } };
    expect(allowed('PutItem', { TableName: 'geo-event-log', Item: voided })).toBe(true);
    expect(allowed('PutItem', { TableName: 'geo-event-log', Item: { ...voided, body: { S: '{}' } } })).toBe(false);
    expect(allowed('TransactWriteItems', { TransactItems: [{ Put: { TableName: 'geo-event-log', Item: { ...voided, body: { S: '{}' } } } }] })).toBe(false);
  });

  it("ForAllValues:StringLike on dynamodb:LeadingKeys: every partition a call touches must match a pattern (* and ?), as publishing's grant names the log's and the Idempotency-Key claims' partitions", () => {
    const publish: PolicyStatement[] = [
      {
        effect: 'Allow',
        actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [LOG],
        condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['geo', 'geo#idempotency#*#*'] } },
      },
    ];
    const put = (cluster: string) =>
      dynamoPermissions('PutItem', { TableName: 'geo-event-log', Item: { cluster: { S: cluster }, sequence: { N: '0' } } }, partitionKeyOf).every((permission) => isAllowed(publish, permission));
    expect(put('geo')).toBe(true);
    expect(put('geo#idempotency#master-1#k-1')).toBe(true);
    expect(put('geo#gateway-lease')).toBe(false);
    expect(put('Geo')).toBe(false);
    const transact = dynamoPermissions(
      'TransactWriteItems',
      { TransactItems: [{ Put: { TableName: 'geo-event-log', Item: { cluster: { S: 'geo' }, sequence: { N: '8' } } } }, { Put: { TableName: 'geo-event-log', Item: { cluster: { S: 'other' }, sequence: { N: '0' } } } }] },
      partitionKeyOf,
    );
    expect(transact.every((permission) => isAllowed(publish, permission))).toBe(false);
  });

  it('a condition the gate does not evaluate counts as holding on an Allow and not on a Deny', () => {
    const other: PolicyStatement[] = [
      { effect: 'Allow', actions: ['dynamodb:GetItem'], resources: [STORE], condition: { StringEquals: { 'aws:PrincipalTag/team': ['geo'] } } },
      { effect: 'Deny', actions: ['dynamodb:GetItem'], resources: [STORE], condition: { Bool: { 'aws:SecureTransport': ['false'] } } },
    ];
    expect(isAllowed(other, { action: 'dynamodb:GetItem', resource: STORE })).toBe(true);
  });
});
