import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { allocatePort, nextPort, PORT_BASE, PORT_RANGE, portInUse, preferredPort, stableHash } from '../../src/domain/ports.js';

describe('stable port hashing', () => {
  it('is FNV-1a: known values, the same on every run', () => {
    expect(stableHash('')).toBe(0x811c9dc5);
    expect(stableHash('a')).toBe(0xe40c292c);
    expect(stableHash('foobar')).toBe(0xbf9cf968);
  });

  it('maps names into 10000-59999 and differs between names', () => {
    const ports = ['web', 'api', 'hello', 'my-app-2'].map(preferredPort);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(PORT_BASE);
      expect(p).toBeLessThan(PORT_BASE + PORT_RANGE);
    }
    expect(new Set(ports).size).toBe(4);
    expect(preferredPort('hello')).toBe(PORT_BASE + (stableHash('hello') % PORT_RANGE));
  });

  it('wraps at the top of the range', () => {
    expect(nextPort(59999)).toBe(10000);
    expect(nextPort(10000)).toBe(10001);
  });
});

describe('port allocation', () => {
  it('takes the preferred port when free', async () => {
    expect(await allocatePort('hello', new Set(), async () => false)).toBe(preferredPort('hello'));
  });

  it('probes upward past ports of other apps and ports in use', async () => {
    const p = preferredPort('hello');
    const taken = new Set([p]);
    const busy = new Set([nextPort(p)]);
    expect(await allocatePort('hello', taken, async (port) => busy.has(port))).toBe(nextPort(nextPort(p)));
  });

  it('fails clearly when nothing is free', async () => {
    await expect(allocatePort('x', new Set(), async () => true)).rejects.toThrow(/no free app port/);
  });

  it('portInUse sees a real listener', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    expect(await portInUse('127.0.0.1', port)).toBe(true);
    await new Promise<void>((r) => server.close(() => r()));
    expect(await portInUse('127.0.0.1', port)).toBe(false);
  });
});
