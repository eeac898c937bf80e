import { describe, expect, it } from 'vitest';
import { DEFAULT_EDGE_IMAGE, loadConfig, parseRegistry } from '../../src/config.js';
import { MinPaasError } from '../../src/errors.js';

/** The Swarm settings: the default scheduler of new apps and the registry every node pulls from. */

function thrown(fn: () => unknown): MinPaasError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MinPaasError);
    return err as MinPaasError;
  }
  throw new Error('expected it to throw');
}

describe('MINPAAS_DEFAULT_SCHEDULER', () => {
  it('is docker-local unless set (and when set empty)', () => {
    expect(loadConfig({}).swarm).toEqual({ defaultScheduler: 'docker-local', registry: null, edgeImage: DEFAULT_EDGE_IMAGE });
    expect(loadConfig({ MINPAAS_DEFAULT_SCHEDULER: '' }).swarm.defaultScheduler).toBe('docker-local');
  });
  it('accepts swarm and docker-local', () => {
    expect(loadConfig({ MINPAAS_DEFAULT_SCHEDULER: 'swarm' }).swarm.defaultScheduler).toBe('swarm');
    expect(loadConfig({ MINPAAS_DEFAULT_SCHEDULER: 'docker-local' }).swarm.defaultScheduler).toBe('docker-local');
  });
  it('refuses anything else with an INVALID_INPUT naming the setting and the choices', () => {
    for (const value of ['kubernetes', 'Swarm', ' swarm']) {
      const err = thrown(() => loadConfig({ MINPAAS_DEFAULT_SCHEDULER: value }));
      expect(err.code).toBe('INVALID_INPUT');
      expect(err.message).toContain('MINPAAS_DEFAULT_SCHEDULER');
      expect(err.message).toContain('"docker-local" or "swarm"');
    }
  });
});

describe('MINPAAS_REGISTRY', () => {
  it('is null when unset or empty', () => {
    expect(parseRegistry(undefined)).toBeNull();
    expect(parseRegistry('')).toBeNull();
  });
  it('accepts a host and port, a host with a path, and drops a trailing slash', () => {
    expect(parseRegistry('127.0.0.1:5000')).toBe('127.0.0.1:5000');
    expect(parseRegistry('registry.example.com/team')).toBe('registry.example.com/team');
    expect(parseRegistry('registry.example.com:443/team/apps/')).toBe('registry.example.com:443/team/apps');
    expect(parseRegistry('localhost:5000//')).toBe('localhost:5000');
  });
  it('is read by loadConfig', () => {
    expect(loadConfig({ MINPAAS_REGISTRY: '10.0.0.5:5000/' }).swarm.registry).toBe('10.0.0.5:5000');
  });
  it('refuses a scheme, credentials, spaces and empty path parts', () => {
    for (const value of ['http://x', 'https://registry.example.com', 'u:p@x', 'x y', 'x/ team', 'x//team', ':5000', 'x:port']) {
      const err = thrown(() => parseRegistry(value));
      expect(err.code).toBe('INVALID_INPUT');
      expect(err.message).toContain('MINPAAS_REGISTRY');
    }
  });
  it('does not echo the refused value: it may hold credentials', () => {
    for (const value of ['admin:s3cr3tPassw0rd@registry.example.com', 'https://bot:tok3nXYZ@registry.example.com/team']) {
      const err = thrown(() => loadConfig({ MINPAAS_REGISTRY: value }));
      expect(err.code).toBe('INVALID_INPUT');
      expect(err.message).not.toContain('s3cr3tPassw0rd');
      expect(err.message).not.toContain('tok3nXYZ');
      expect(err.message).not.toContain(value);
      expect(JSON.stringify(err.details ?? [])).not.toContain('s3cr3t');
    }
  });
});

describe('MINPAAS_EDGE_IMAGE', () => {
  it('defaults to the platform HAProxy image, and can be set', () => {
    expect(loadConfig({}).swarm.edgeImage).toBe(DEFAULT_EDGE_IMAGE);
    expect(loadConfig({ MINPAAS_EDGE_IMAGE: 'haproxy:3.0' }).swarm.edgeImage).toBe('haproxy:3.0');
  });
});

describe('MINPAAS_REGISTRY: what Docker would refuse later', () => {
  it('refuses a port above 65535 and an upper-case path', () => {
    expect(() => parseRegistry('x:99999')).toThrow(MinPaasError);
    expect(() => parseRegistry('registry.example.com/Team')).toThrow(/lower-case path/);
    expect(parseRegistry('Registry.Example.com:443/team')).toBe('Registry.Example.com:443/team');
  });
});
