/**
 * The README's "Configuration" example says its `status` and `observability` values are the
 * defaults (alarmEmails excepted, which it says defaults to none): held to the schema's.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseClusterConfig } from '../../cdk/cluster-config';

const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
const block = /## Configuration\n[\s\S]*?```json\n("cluster": \{[\s\S]*?\n\})\n```/.exec(readme)?.[1];

describe("the README's configuration example", () => {
  it('is found', () => {
    expect(block).toBeDefined();
  });

  it('shows the schema defaults of status and observability', () => {
    const example = (JSON.parse(`{${block!}}`) as { cluster: Record<string, Record<string, unknown>> }).cluster;
    const defaults = parseClusterConfig({ name: 'geo', nodes: [{ name: 'master-1', role: 'master' }] });
    expect(example.status).toEqual(defaults.status);
    const { alarmEmails, ...observability } = example.observability!;
    expect(alarmEmails).toBeDefined();
    expect(defaults.observability.alarmEmails).toEqual([]);
    expect(observability).toEqual(Object.fromEntries(Object.entries(defaults.observability).filter(([key]) => key !== 'alarmEmails')));
  });
});
