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
