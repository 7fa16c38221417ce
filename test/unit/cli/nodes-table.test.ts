import { nodesTable } from '../../../cli/main';
import type { components } from '../../../cli/api-types';

type NodeState = components['schemas']['NodeState'];

const node = (name: string, extra: Partial<NodeState> = {}): NodeState =>
  ({ name, role: 'slave', lastAppliedSequence: 7, lag: 0, queueDepth: 0, deadLetterDepth: 0, paused: false, failing: null, parked: [], ...extra }) as NodeState;
const geoserver = (reachable: boolean | null, version: string | null = null): NonNullable<NodeState['geoserver']> =>
  ({ url: 'http://10.0.3.21:8080/geoserver', reachable, version, checkedAt: null, lastError: null, rejected: [], unclearedProperties: [] }) as NonNullable<NodeState['geoserver']>;

describe('geocluster nodes table', () => {
  it('has no GeoServer column when no node has a GeoServer', () => {
    expect(nodesTable([node('slave-1')], 7).split('\n')[1]!.split(/\s+/)).toEqual(['NODE', 'ROLE', 'CURSOR', 'LAG', 'QUEUE', 'DLQ', 'PAUSED']);
  });

  it("shows each GeoServer node's reachability as GET /nodes reports it, and a dash for the others", () => {
    const lines = nodesTable(
      [
        node('master-1', { role: 'master', queueDepth: null, deadLetterDepth: null }),
        node('slave-1', { geoserver: geoserver(true, '2.26.2') }),
        node('slave-2', { geoserver: geoserver(false, '2.26.2') }),
        node('slave-3', { geoserver: geoserver(null) }),
      ],
      7,
    ).split('\n');
    expect(lines[1]!.split(/\s+/).at(-1)).toBe('GEOSERVER');
    const cell = (row: string) => row.split(/\s{2,}/).at(-1);
    expect(lines.slice(2).map(cell)).toEqual(['-', 'reachable (2.26.2)', 'UNREACHABLE', 'not yet checked']);
  });
});
