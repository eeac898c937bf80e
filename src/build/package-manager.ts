import semver from 'semver';
import { MinPaasError } from '../errors.js';

/**
 * Which package manager builds a Node app, as Heroku decides it: the lockfile names the
 * manager, `packageManager` in package.json pins its version. Pure: the caller reads the
 * files.
 */
export type PackageManagerName = 'npm' | 'yarn' | 'pnpm';

export interface PackageManagerChoice {
  name: PackageManagerName;
  /** yarn 2 and later ("berry"): other commands and another registry package. */
  berry: boolean;
  lockfile: string | null;
  /**
   * The npm registry package that provides it, or null for the runtime's own npm.
   * An exact version when `packageManager` pins one, else a range to resolve.
   */
  provide: { package: string; range: string } | null;
  /** Where the version came from, for the push output. */
  pinnedBy: 'packageManager' | 'lockfile' | 'default';
}

export const LOCKFILES: Record<string, PackageManagerName> = {
  'package-lock.json': 'npm',
  'npm-shrinkwrap.json': 'npm',
  'yarn.lock': 'yarn',
  'pnpm-lock.yaml': 'pnpm',
};

export interface PackageManagerInput {
  /** package.json's `packageManager`, if any. */
  packageManager: unknown;
  /** Lockfiles present at the top of the source, with their text when the version depends on it. */
  lockfiles: Record<string, string>;
  /** `.yarnrc.yml`, if present (its yarnPath names the release a berry repo commits). */
  yarnrc?: string | undefined;
}

const PACKAGE_MANAGER = /^(npm|yarn|pnpm)@([^+\s]+)(\+.*)?$/;

/** `pnpm@9.15.0+sha512.…` → name and exact version; anything else is refused. */
export function parsePackageManager(value: unknown): { name: PackageManagerName; version: string } {
  const match = typeof value === 'string' ? PACKAGE_MANAGER.exec(value.trim()) : null;
  if (!match || !semver.valid(match[2]!)) {
    throw new MinPaasError(
      'CONTRACT_VIOLATED',
      `package.json "packageManager" must be npm, yarn or pnpm with an exact version (e.g. "pnpm@9.15.0"), got ${JSON.stringify(value)}`,
    );
  }
  return { name: match[1] as PackageManagerName, version: match[2]! };
}

/** yarn.lock written by yarn 2+ carries a `__metadata:` block; yarn 1's never does. */
export function isBerryLockfile(text: string): boolean {
  return /^__metadata:/m.test(text);
}

/** The yarn line a berry lockfile belongs to (its __metadata version: 4 → yarn 2, 6 → 3, 8 → 4). */
function berryRangeFromLockfile(text: string): string {
  const version = Number(/^__metadata:\s*\n\s+version:\s*(\d+)/m.exec(text)?.[1] ?? 8);
  if (version >= 8) return '4';
  if (version >= 6) return '3';
  return '2';
}

/** pnpm's lockfileVersion: 9.x is read by pnpm 9 and 10, 6.x by pnpm 8, 5.x by pnpm 7. */
function pnpmRangeFromLockfile(text: string): string {
  const major = Number(/^lockfileVersion:\s*'?(\d+)/m.exec(text)?.[1] ?? 9);
  if (major >= 9) return '10';
  if (major >= 6) return '8';
  return '7';
}

/** A release committed under .yarn/releases names its version: yarnPath: .yarn/releases/yarn-4.5.1.cjs */
function yarnPathVersion(yarnrc: string | undefined): string | null {
  const match = yarnrc ? /^yarnPath:\s*["']?\S*yarn-(\d+\.\d+\.\d+)\.c?js/m.exec(yarnrc) : null;
  return match ? match[1]! : null;
}

function yarnPackage(berry: boolean): string {
  return berry ? '@yarnpkg/cli-dist' : 'yarn';
}

export function choosePackageManager(input: PackageManagerInput): PackageManagerChoice {
  const found = Object.keys(input.lockfiles).filter((f) => LOCKFILES[f]);
  const names = [...new Set(found.map((f) => LOCKFILES[f]!))];
  if (names.length > 1) {
    throw new MinPaasError(
      'CONTRACT_VIOLATED',
      `lockfiles of different package managers found (${found.join(', ')}): keep the one your app uses and delete the others`,
    );
  }
  const pinned = input.packageManager === undefined ? null : parsePackageManager(input.packageManager);
  const fromLock = names[0] ?? null;
  if (pinned && fromLock && pinned.name !== fromLock) {
    throw new MinPaasError(
      'CONTRACT_VIOLATED',
      `package.json "packageManager" says ${pinned.name} but the lockfile is ${found[0]} (${fromLock}): make them agree`,
    );
  }
  const name = fromLock ?? pinned?.name ?? 'npm';
  const lockfile = found.find((f) => LOCKFILES[f] === name) ?? null;
  const lockText = lockfile ? input.lockfiles[lockfile] ?? '' : '';
  if (name === 'npm') {
    return { name, berry: false, lockfile, provide: pinned ? { package: 'npm', range: pinned.version } : null, pinnedBy: pinned ? 'packageManager' : 'default' };
  }
  if (name === 'yarn') {
    const berry = pinned ? semver.major(pinned.version) >= 2 : isBerryLockfile(lockText);
    const committed = berry ? yarnPathVersion(input.yarnrc) : null;
    const range = pinned?.version ?? committed ?? (berry ? berryRangeFromLockfile(lockText) : '1');
    return { name, berry, lockfile, provide: { package: yarnPackage(berry), range }, pinnedBy: pinned ? 'packageManager' : lockfile ? 'lockfile' : 'default' };
  }
  const range = pinned?.version ?? pnpmRangeFromLockfile(lockText);
  return { name, berry: false, lockfile, provide: { package: 'pnpm', range }, pinnedBy: pinned ? 'packageManager' : lockfile ? 'lockfile' : 'default' };
}
