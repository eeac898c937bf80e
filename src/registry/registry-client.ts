import http from 'node:http';
import https from 'node:https';

const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

/**
 * MINPAAS_REGISTRY's HTTP API (Docker Registry v2), for what Docker's engine API cannot
 * do: deleting a tag the retention policy dropped. Loopback registries speak plain HTTP
 * (as Docker trusts them without TLS); any other, HTTPS.
 */
export class RegistryClient {
  private readonly host: string;
  private readonly prefix: string;

  constructor(registry: string) {
    const slash = registry.indexOf('/');
    this.host = slash === -1 ? registry : registry.slice(0, slash);
    this.prefix = `${registry}/`;
  }

  /** True for a reference pushed to this registry (`REGISTRY/minpaas/APP:vN`). */
  owns(ref: string): boolean {
    return ref.startsWith(this.prefix);
  }

  /**
   * Deletes the manifest `ref` names. Resolves false when the registry has no such tag,
   * and throws when it refuses (e.g. deletes are not enabled there).
   */
  async deleteTag(ref: string): Promise<boolean> {
    const { repo, tag } = this.split(ref);
    const head = await this.request('HEAD', `/v2/${repo}/manifests/${encodeURIComponent(tag)}`, { Accept: MANIFEST_TYPES });
    if (head.status === 404) return false;
    const digest = head.headers['docker-content-digest'];
    if (head.status !== 200 || typeof digest !== 'string') throw new Error(`the registry answered ${head.status} for ${repo}:${tag}`);
    const deleted = await this.request('DELETE', `/v2/${repo}/manifests/${digest}`, {});
    if (deleted.status === 404) return false;
    if (deleted.status !== 202 && deleted.status !== 200) {
      throw new Error(`the registry refused to delete ${repo}:${tag} (HTTP ${deleted.status}${deleted.status === 405 ? ': deletes are not enabled there (REGISTRY_STORAGE_DELETE_ENABLED=true)' : ''})`);
    }
    return true;
  }

  private split(ref: string): { repo: string; tag: string } {
    // The repository is everything after the host (a registry path like `team/` included).
    const rest = ref.slice(this.host.length + 1);
    const colon = rest.lastIndexOf(':');
    return { repo: rest.slice(0, colon), tag: rest.slice(colon + 1) };
  }

  private request(method: string, path: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
    const loopback = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(this.host);
    const client = loopback ? http : https;
    const [hostname, port] = this.host.startsWith('[') ? [this.host.slice(1, this.host.indexOf(']')), this.host.split(']:')[1]] : this.host.split(':');
    return new Promise((resolve, reject) => {
      const req = client.request({ method, hostname, port: port ? Number(port) : undefined, path, headers, timeout: 15_000 }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      });
      req.on('timeout', () => req.destroy(new Error(`the registry ${this.host} did not answer`)));
      req.on('error', reject);
      req.end();
    });
  }
}
