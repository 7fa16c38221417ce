/**
 * Starting an emulator on a port (local/ports.ts startOnPort): a port asked as 0 that another
 * process takes before the emulator binds it is replaced by another free one, a bounded number
 * of times; a port the user chose is never replaced. The emulators themselves are started in
 * test/integration/emulators.test.ts; here `start` stands in for them.
 */
import { FREE_PORT_ATTEMPTS, PortInUseError, startOnPort } from '../../../local/ports';
import { LocalStartError } from '../../../local/errors';

/** A start that finds every port in `busy` taken, and otherwise reports the port it bound. */
function fakeStart(busy: Set<number>) {
  const tried: number[] = [];
  const start = async (port: number) => {
    tried.push(port);
    if (busy.has(port)) throw new PortInUseError(port, `Port ${port} (fake) is in use: stop the other process or choose another port`);
    return { port };
  };
  return { start, tried };
}

/** A picker that returns `ports` in turn. */
function picker(ports: number[]) {
  let next = 0;
  return jest.fn(async () => {
    const port = ports[next++];
    if (port === undefined) throw new Error('the test picker ran out of ports');
    return port;
  });
}

describe('startOnPort', () => {
  test('a picked port taken before the start bound it is replaced by another', async () => {
    const { start, tried } = fakeStart(new Set([40001, 40002]));
    await expect(startOnPort(0, 'fake', start, { pick: picker([40001, 40002, 40003]), option: '--fake-port' })).resolves.toEqual({ port: 40003 });
    expect(tried).toEqual([40001, 40002, 40003]);
  });

  test('a port the user chose is tried once and its busy error kept, never replaced', async () => {
    const { start, tried } = fakeStart(new Set([40001]));
    const pick = picker([40002]);
    await expect(startOnPort(40001, 'fake', start, { pick, option: '--fake-port' })).rejects.toThrow(
      new PortInUseError(40001, 'Port 40001 (fake) is in use: stop the other process or choose another port'),
    );
    expect(tried).toEqual([40001]);
    expect(pick).not.toHaveBeenCalled();
  });

  test(`gives up after ${FREE_PORT_ATTEMPTS} taken ports, naming each`, async () => {
    const busy = [40001, 40002, 40003, 40004, 40005, 40006];
    const { start, tried } = fakeStart(new Set(busy));
    const failure = startOnPort(0, 'fake', start, { pick: picker(busy), option: '--fake-port' });
    await expect(failure).rejects.toBeInstanceOf(LocalStartError);
    await expect(failure).rejects.toThrow(
      'fake could not start on a free port: another process took each port picked for it (40001, 40002, 40003, 40004, 40005) before it could bind it; retry, or choose a port: npm start -- --fake-port N',
    );
    expect(tried).toEqual(busy.slice(0, FREE_PORT_ATTEMPTS));
  });

  test('other start failures are not retried', async () => {
    const pick = picker([40001, 40002]);
    const start = jest.fn(async () => {
      throw new LocalStartError('Java 17+ is required');
    });
    await expect(startOnPort(0, 'fake', start, { pick, option: '--fake-port' })).rejects.toThrow('Java 17+ is required');
    expect(start).toHaveBeenCalledTimes(1);
  });

  test("never picks a port another emulator holds or was given", async () => {
    const taken = new Set([40001]);
    const { start, tried } = fakeStart(new Set());
    await expect(startOnPort(0, 'fake', start, { pick: picker([40001, 40002]), taken, option: '--fake-port' })).resolves.toEqual({ port: 40002 });
    expect(tried).toEqual([40002]);
    expect(taken).toEqual(new Set([40001, 40002]));
  });
});
