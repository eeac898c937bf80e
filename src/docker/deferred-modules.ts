import Module, { createRequire } from 'node:module';

/**
 * dockerode requires, at load, docker-modem's SSH transport (ssh2, ~12 MB resident) and
 * BuildKit's session support (@grpc/grpc-js and @grpc/proto-loader, ~10 MB), though a
 * control plane on the local socket with the classic builder never calls either. These
 * stand-ins take their place in the require cache before dockerode loads: the real module
 * is loaded on first use (an ssh:// DOCKER_HOST, a BuildKit session), so nothing changes
 * for those and the other nine hundred and ninety-nine starts pay nothing.
 */
interface Deferred {
  /** The module as a dependent asks for it. */
  id: string;
  /** A file of the package that requires it (its node_modules is searched). */
  requiredFrom: string;
  /** Exports the dependent reads while it loads (a class it keeps): forwarded constructors. */
  constructors?: string[];
}

const DOCKERODE_DEPENDENCIES: Deferred[] = [
  { id: 'ssh2', requiredFrom: 'docker-modem/lib/ssh.js', constructors: ['Client'] },
  { id: '@grpc/grpc-js', requiredFrom: 'dockerode/lib/session.js' },
  { id: '@grpc/proto-loader', requiredFrom: 'dockerode/lib/session.js' },
];

const here = createRequire(import.meta.url);

/** Installs the stand-ins (once; a module already loaded is left as it is). */
export function deferDockerodeDependencies(): void {
  for (const dep of DOCKERODE_DEPENDENCIES) defer(dep);
}

function defer(dep: Deferred): void {
  let from: NodeJS.Require;
  let file: string;
  try {
    from = createRequire(here.resolve(dep.requiredFrom));
    file = from.resolve(dep.id);
  } catch {
    // Another layout of these packages (a new version): they load as they always did.
    return;
  }
  if (here.cache[file]) return;
  let real: Record<string | symbol, unknown> | undefined;
  const load = (): Record<string | symbol, unknown> => {
    if (real === undefined) {
      delete here.cache[file];
      real = from(file) as Record<string | symbol, unknown>;
    }
    return real;
  };
  const forwarded = new Map<string, unknown>();
  for (const name of dep.constructors ?? []) {
    // `new Client()` on the stand-in builds the real class's instance (a constructor that
    // returns an object yields that object).
    forwarded.set(name, function (this: unknown, ...args: unknown[]) {
      const Real = load()[name] as new (...a: unknown[]) => unknown;
      return new Real(...args);
    });
  }
  const exports = new Proxy({} as Record<string | symbol, unknown>, {
    get: (_, key) => (typeof key === 'string' && forwarded.has(key) && real === undefined ? forwarded.get(key) : load()[key]),
    has: (_, key) => key in load(),
  });
  const stand = new Module(file);
  stand.filename = file;
  stand.exports = exports;
  stand.loaded = true;
  here.cache[file] = stand;
}
