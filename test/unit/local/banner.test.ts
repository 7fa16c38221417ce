/**
 * The banner `npm start` prints (local/banner.ts) names the pid to send SIGINT to, in both modes:
 * an operator who put the run in the background stops it with `kill -INT <pid>`, without looking
 * for the right node process with ps (npm's own pid does not pass SIGINT on).
 */
import { banner, type BannerCluster } from '../../../local/banner';

const cluster: BannerCluster = {
  url: 'http://127.0.0.1:3100',
  tokens: { 'master-1': 'master-1.secretAsecretAsecretA', ops: 'ops.secretBsecretBsecretB' },
  cluster: { name: 'geo', nodes: [{ name: 'master-1' }] },
  topology: { routes: [{ method: 'GET', path: '/nodes', authorizer: { functionId: 'Authorizer', identitySource: ['$request.header.Authorization'], cacheTtlSeconds: 60 } }], schedules: [{ name: 'MeasureLag', expression: 'rate(1 minute)' }] },
  emulators: { dynamoEndpoint: 'http://127.0.0.1:8000', awsEndpoint: 'http://127.0.0.1:4566' },
};

describe('the npm start banner', () => {
  it.each([[true], [false]])('names the pid that stops the cluster on SIGINT (--in-memory: %s)', (inMemory) => {
    // Not this test's own pid: the banner prints the one it is given.
    const pid = process.pid + 12345;
    const text = banner(cluster, { inMemory, functionLog: '/repo/.local/functions.log', pid, cwd: '/repo' });
    expect(text).toContain(`\n  Pid          ${pid} (stop it from another shell: kill -INT ${pid};`);
    expect(text).toMatch(new RegExp(`Ctrl-C \\(or kill -INT ${pid}\\) stops everything\\.$`));
  });

  it('still says where everything is', () => {
    const text = banner(cluster, { inMemory: true, functionLog: '/repo/.local/functions.log', pid: 4242, cwd: '/repo' });
    expect(text).toContain("Local cluster 'geo' is running.");
    expect(text).toContain('  Function logs .local/functions.log (JSON lines: tail -f it)');
    expect(text).toContain('    GET    /nodes   (token)');
    expect(text).toContain('GEOCLUSTER_URL=http://127.0.0.1:3100 GEOCLUSTER_TOKEN=master-1.secretAsecretAsecretA npx geocluster nodes');
  });
});

describe('after a persisted restart that holds not every token', () => {
  // master-1's token was minted since with geocluster token issue, ops's revoked (local/node-tokens.ts).
  const restarted: BannerCluster = {
    ...cluster,
    cluster: { name: 'geo', nodes: [{ name: 'master-1' }, { name: 'slave-1' }] },
    tokens: { 'slave-1': 'slave-1.secretCsecretCsecretC' },
    tokensElsewhere: { 'master-1': 'issued', ops: 'revoked' },
  };

  it('names the names it holds no token of, and why', () => {
    const text = banner(restarted, { inMemory: false, functionLog: '/repo/.local/functions.log', pid: 4242, cwd: '/repo' });
    expect(text).toContain('    master-1     (kept: the token geocluster token issue printed; not in .local/node-tokens.json)');
    expect(text).toContain('    ops          (revoked: geocluster token issue mints a new one)');
    expect(text).toContain('    slave-1      slave-1.secretCsecretCsecretC');
  });

  it('tries it with a token it holds', () => {
    const text = banner(restarted, { inMemory: false, functionLog: '/repo/.local/functions.log', pid: 4242, cwd: '/repo' });
    expect(text).toContain('  TOKEN=slave-1.secretCsecretCsecretC\n');
    expect(text).not.toContain('undefined');
  });
});

it('names a log file outside the working folder by its absolute path', () => {
  const text = banner(cluster, { inMemory: true, functionLog: '/tmp/geocluster-in-memory-x/functions.log', pid: 4242, cwd: '/repo' });
  expect(text).toContain('  Function logs /tmp/geocluster-in-memory-x/functions.log (JSON lines: tail -f it)');
});
