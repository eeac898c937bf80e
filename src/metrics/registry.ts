import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AppRow } from '../domain/types.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { AppTraffic } from '../router/traffic.js';
import type { AppContainerStatus } from '../runner/container-statuses.js';
import type { DeployMetrics, MeasuredStep } from './deploy-metrics.js';

/** What a scrape reads, each once: the store's apps, one Docker list, memory per container, HAProxy's stats. */
export interface ScrapeSources {
  apps: () => AppRow[];
  statuses: (apps: AppRow[]) => Promise<Map<string, AppContainerStatus>>;
  memoryUsage: (containerId: string) => Promise<number | null>;
  traffic: () => Promise<AppTraffic[]>;
  log: Logger;
}

/** Memory reads that fall back to Docker stats take ~1 s each here: a few at a time, and a scrape gives up on the rest after this. */
export const MEMORY_STATS_BUDGET_MS = 2000;
const MEMORY_STATS_CONCURRENCY = 4;

/** Deploy steps take from under a second (a switch) to many minutes (a build). */
const STEP_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

/** The Prometheus registry of one control plane: deploy counters and histograms, scrape-time gauges, process metrics. */
export class Metrics implements DeployMetrics {
  readonly registry = new Registry();
  private readonly deploys = new Counter({ name: 'minpaas_deploys_total', help: 'Deploys by app, source (push, api, config, rollback, webhook) and outcome', labelNames: ['app', 'source', 'outcome'], registers: [this.registry] });
  private readonly releases = new Counter({ name: 'minpaas_releases_total', help: 'Releases committed, by app and kind (build, config, rollback)', labelNames: ['app', 'kind'], registers: [this.registry] });
  private readonly steps: Record<MeasuredStep, Histogram> = {
    build: this.histogram('minpaas_build_duration_seconds', 'Image build time'),
    health_check: this.histogram('minpaas_health_check_duration_seconds', 'Time until a new container answered HTTP'),
    switch: this.histogram('minpaas_switch_duration_seconds', 'Time to route traffic to the new container (drain not included)'),
    drain: this.histogram('minpaas_drain_duration_seconds', 'Time the old container took to drain after a switch'),
  };
  private readonly restarts = this.gauge('minpaas_app_container_restarts', "Docker's restart count of the app's current container", ['app']);
  private readonly memory = this.gauge('minpaas_app_memory_bytes', "Memory use of the app's current container", ['app']);
  private readonly up = this.gauge('minpaas_app_running', "1 when the app's current container is running", ['app']);
  private readonly memorySkipped = this.gauge('minpaas_scrape_memory_skipped', 'Containers whose memory this scrape did not read within its time budget', []);
  private readonly requests = this.gauge('minpaas_app_http_requests', 'HTTP requests the router passed to the app (HAProxy counter; a router reload starts it from zero)', ['app']);
  private readonly errors5xx = this.gauge('minpaas_app_http_responses_5xx', 'Of those, 5xx answers (HAProxy counter; resets on a router reload)', ['app']);
  private readonly responseTime = this.gauge('minpaas_app_http_response_time_seconds', "HAProxy's average response time over the app's last 1,024 requests", ['app']);
  private readonly routerUp = this.gauge('minpaas_router_up', '1 when the router answered on its admin socket during this scrape', []);

  constructor(private readonly sources: ScrapeSources) {
    collectDefaultMetrics({ register: this.registry });
  }

  deployFinished(app: string, source: string, outcome: 'succeeded' | 'failed'): void {
    this.deploys.inc({ app, source, outcome });
  }

  released(app: string, kind: string): void {
    this.releases.inc({ app, kind });
  }

  stepTook(step: MeasuredStep, ms: number): void {
    this.steps[step].observe(ms / 1000);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The scrape: app gauges read now (one Docker list, bounded stats, one `show stat`), then everything rendered. */
  async render(): Promise<string> {
    await Promise.all([this.readContainers(), this.readTraffic()]);
    return this.registry.metrics();
  }

  private async readContainers(): Promise<void> {
    const apps = this.sources.apps();
    let statuses: Map<string, AppContainerStatus>;
    try {
      statuses = await this.sources.statuses(apps);
    } catch (err) {
      this.sources.log.warn({ err: errorMessage(err) }, 'metrics: could not list containers');
      return;
    }
    for (const g of [this.restarts, this.memory, this.up]) g.reset();
    const running: [string, string][] = [];
    for (const [app, s] of statuses) {
      if (!s.containerId) continue;
      this.restarts.set({ app }, s.restartCount);
      this.up.set({ app }, s.status === 'running' ? 1 : 0);
      if (s.status === 'running') running.push([app, s.containerId]);
    }
    this.memorySkipped.set(await this.readMemory(running));
  }

  /** Memory of running containers, a few at a time, until the budget runs out; returns how many were skipped. */
  private async readMemory(running: [string, string][]): Promise<number> {
    const deadline = performance.now() + MEMORY_STATS_BUDGET_MS;
    const queue = [...running];
    const worker = async (): Promise<void> => {
      while (queue.length > 0 && performance.now() < deadline) {
        const next = queue.shift()!;
        const bytes = await this.sources.memoryUsage(next[1]).catch(() => null);
        if (bytes !== null) this.memory.set({ app: next[0] }, bytes);
      }
    };
    await Promise.all(Array.from({ length: MEMORY_STATS_CONCURRENCY }, worker));
    return queue.length;
  }

  private async readTraffic(): Promise<void> {
    for (const g of [this.requests, this.errors5xx, this.responseTime]) g.reset();
    try {
      for (const t of await this.sources.traffic()) {
        this.requests.set({ app: t.app }, t.requests);
        this.errors5xx.set({ app: t.app }, t.responses5xx);
        this.responseTime.set({ app: t.app }, t.avgResponseMs / 1000);
      }
      this.routerUp.set(1);
    } catch {
      this.routerUp.set(0);
    }
  }

  private histogram(name: string, help: string): Histogram {
    return new Histogram({ name, help, buckets: STEP_BUCKETS, registers: [this.registry] });
  }

  private gauge(name: string, help: string, labelNames: string[]): Gauge {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }
}
