/**
 * Every container and image MinPaas creates carries these labels; MinPaas deletes only
 * what carries them ("prove that we own the exact resource").
 */
export const LABEL_MANAGED = 'minpaas.managed';
/** Which MinPaas installation (data dir) owns it: several may share one Docker engine. */
export const LABEL_INSTANCE = 'minpaas.instance';
export const LABEL_APP = 'minpaas.app';
export const LABEL_RELEASE = 'minpaas.release';
/** Set by the runtime Dockerfiles on every layer they build (see runtimes/). */
export const LABEL_BUILD_LAYER = 'minpaas.build-layer';
/** The result of a multi-stage build's build stage, kept so the next build reuses its layers. */
export const LABEL_BUILD_CACHE = 'minpaas.build-cache';

export function appLabels(instance: string, app: string): Record<string, string> {
  return { [LABEL_MANAGED]: 'true', [LABEL_INSTANCE]: instance, [LABEL_APP]: app };
}

export function ownedLabels(instance: string, app: string, release: number): Record<string, string> {
  return { ...appLabels(instance, app), [LABEL_RELEASE]: String(release) };
}

export const NETWORK_PREFIX = 'minpaas-net-';

/** Each app's own bridge network. */
export function networkName(app: string): string {
  return `${NETWORK_PREFIX}${app}`;
}

/** The Swarm service of one process type of an app (issue 14 names them `APP-web`). */
export function serviceName(app: string, type: string): string {
  return `${app}-${type}`;
}

/** The container that routes the host's router into an app's Swarm tasks. */
export function edgeName(app: string, appPort: number): string {
  return `minpaas-${app}-edge-${appPort}`;
}

/** Labels of a Swarm task's container: not `minpaas.managed`, so container listings and clean-ups leave tasks to Swarm. */
export function taskLabels(instance: string, app: string, release: number, type: string): Record<string, string> {
  return { 'minpaas.swarm-instance': instance, 'minpaas.swarm-app': app, [LABEL_RELEASE]: String(release), [LABEL_PROCESS]: type };
}

export const LABEL_PROCESS = 'minpaas.process';

/** Docker `filters` selecting what this installation owns, optionally of one app. */
export function ownedFilter(instance: string, app?: string): { label: string[] } {
  const label = [`${LABEL_MANAGED}=true`, `${LABEL_INSTANCE}=${instance}`];
  if (app) label.push(`${LABEL_APP}=${app}`);
  return { label };
}

export function imageTag(app: string, release: number): string {
  return `minpaas/${app}:v${release}`;
}

/** A process of a release: `minpaas-APP-vN-web-1`. */
export function containerName(app: string, release: number, type: string, replica: number): string {
  return `minpaas-${app}-v${release}-${type}-${replica}`;
}

/** A one-off container (release phase, `minpaas run`): `minpaas-APP-vN-run-ID`. */
export function oneOffName(app: string, release: number, id: string): string {
  return `minpaas-${app}-v${release}-run-${id}`;
}

/**
 * One-off containers are never a release's processes (a deploy does not retire them).
 * Their id is 8 hex digits; a process type named `run` has replicas 1 to 10.
 */
export function isOneOffName(name: string): boolean {
  return /-v\d+-run-[0-9a-f]{8}$/.test(name);
}
