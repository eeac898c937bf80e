/**
 * Every container and image MinPaas creates carries these labels; MinPaas deletes only
 * what carries them ("prove that we own the exact resource").
 */
export const LABEL_MANAGED = 'minpaas.managed';
export const LABEL_APP = 'minpaas.app';
export const LABEL_RELEASE = 'minpaas.release';

export function ownedLabels(app: string, release: number): Record<string, string> {
  return { [LABEL_MANAGED]: 'true', [LABEL_APP]: app, [LABEL_RELEASE]: String(release) };
}

/** Docker `filters` selecting what MinPaas owns, optionally of one app. */
export function ownedFilter(app?: string): { label: string[] } {
  return { label: app ? [`${LABEL_MANAGED}=true`, `${LABEL_APP}=${app}`] : [`${LABEL_MANAGED}=true`] };
}

export function imageTag(app: string, release: number): string {
  return `minpaas/${app}:v${release}`;
}

export function containerName(app: string, release: number): string {
  return `minpaas-${app}-v${release}`;
}
