import type { ContainerGuards, Resources } from '../domain/resources.js';
import type { EnvVars } from '../domain/types.js';

/** One process type of a release as a Swarm service, in MinPaas terms. */
export interface ServiceSpecInput {
  name: string;
  image: string;
  env: EnvVars;
  /** The container's arguments (the image's CMD when null). */
  args: string[] | null;
  /** On the service and on each task's container. */
  labels: Record<string, string>;
  containerLabels: Record<string, string>;
  replicas: number;
  network: string;
  /** Web processes: the port the health check asks; null for workers (no health check). */
  appPort: number | null;
  resources: Resources;
  guards: ContainerGuards;
  /** How long a new task may take to answer before its failures count (the health timeout). */
  healthStartSeconds: number;
  stopGraceSeconds: number;
}

const NS_PER_S = 1e9;

/**
 * "Does anything answer HTTP on $PORT?" with whatever the image has (any status counts,
 * as for the platform's own health check): node, python3, curl, wget, then a bare TCP
 * connect by bash. Slim images without any of these get no HTTP-level check.
 */
export const HTTP_PROBE = [
  'p="${PORT:-5000}"',
  'if command -v node >/dev/null 2>&1; then exec node -e \'require("http").get({host:"127.0.0.1",port:process.env.PORT||5000,path:"/",timeout:2000},()=>process.exit(0)).on("error",()=>process.exit(1)).on("timeout",()=>process.exit(1))\'; fi',
  'if command -v python3 >/dev/null 2>&1; then exec python3 -c \'import http.client,os;c=http.client.HTTPConnection("127.0.0.1",int(os.environ.get("PORT","5000")),timeout=2);c.request("GET","/");c.getresponse()\'; fi',
  'if command -v curl >/dev/null 2>&1; then exec curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$p/"; fi',
  'if command -v wget >/dev/null 2>&1; then wget -S -q -O /dev/null -T 2 "http://127.0.0.1:$p/" 2>&1 | grep -q "HTTP/"; exit $?; fi',
  'exec bash -c "exec 3<>/dev/tcp/127.0.0.1/$p"',
].join('\n');

/**
 * The Docker ServiceSpec: replicated, on the overlay with DNS round robin (the edge
 * resolves `tasks.NAME`; no VIP, no ingress mesh), rolling updates that start the new
 * task first and roll back by themselves when a new task fails, a health check that
 * keeps a task out of DNS until it answers, and the same limits and hardening as a
 * container on this engine.
 */
export function serviceSpec(input: ServiceSpecInput): Record<string, unknown> {
  const web = input.appPort !== null;
  const health = web
    ? {
        Test: ['CMD-SHELL', HTTP_PROBE],
        // Checked often while starting (the start interval), rarely after.
        Interval: 5 * NS_PER_S,
        Timeout: 3 * NS_PER_S,
        Retries: 2,
        StartPeriod: input.healthStartSeconds * NS_PER_S,
        StartInterval: NS_PER_S / 2,
      }
    : undefined;
  const rolling = { Parallelism: 1, Delay: 0, Monitor: 3 * NS_PER_S, MaxFailureRatio: 0, Order: 'start-first' };
  return {
    Name: input.name,
    Labels: input.labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: input.image,
        Env: Object.entries(input.env).map(([k, v]) => `${k}=${v}`),
        ...(input.args ? { Args: input.args } : {}),
        Labels: input.containerLabels,
        // Without an init, node as PID 1 ignores SIGTERM and every stop takes the grace period.
        Init: true,
        StopGracePeriod: input.stopGraceSeconds * NS_PER_S,
        CapabilityDrop: ['ALL'],
        Privileges: { NoNewPrivileges: true },
        ...(health ? { HealthCheck: health } : {}),
      },
      Resources: { Limits: limits(input.resources, input.guards.pidsLimit) },
      RestartPolicy: { Condition: 'any', Delay: NS_PER_S, MaxAttempts: 0 },
      Networks: [{ Target: input.network }],
      LogDriver: { Name: 'json-file', Options: { 'max-size': String(input.guards.logMaxBytes), 'max-file': String(input.guards.logMaxFiles) } },
    },
    Mode: { Replicated: { Replicas: input.replicas } },
    UpdateConfig: { ...rolling, FailureAction: 'rollback' },
    RollbackConfig: { ...rolling, FailureAction: 'pause' },
    EndpointSpec: { Mode: 'dnsrr' },
  };
}

function limits(r: Resources, pids: number): Record<string, number> {
  const out: Record<string, number> = { Pids: pids };
  if (r.memoryBytes !== null) out.MemoryBytes = r.memoryBytes;
  if (r.cpus !== null) out.NanoCPUs = Math.round(r.cpus * NS_PER_S);
  return out;
}

/** The same spec with another replica count: scaling is not a rolling update. */
export function withReplicas(spec: Record<string, unknown>, replicas: number): Record<string, unknown> {
  return { ...spec, Mode: { Replicated: { Replicas: replicas } } };
}

/**
 * A one-off task (release phase, `minpaas run`): one replica that runs once and is never
 * restarted. Not a Swarm job: a finished job's container outlives its service on every
 * node, while a replicated service's go with it.
 */
export function jobSpec(input: Omit<ServiceSpecInput, 'replicas' | 'appPort' | 'healthStartSeconds'>): Record<string, unknown> {
  const spec = serviceSpec({ ...input, replicas: 1, appPort: null, healthStartSeconds: 0 });
  const template = spec.TaskTemplate as Record<string, unknown>;
  return {
    ...spec,
    TaskTemplate: { ...template, RestartPolicy: { Condition: 'none', MaxAttempts: 0 } },
    UpdateConfig: undefined,
    RollbackConfig: undefined,
  };
}

type Spec = Record<string, unknown>;
const template = (spec: Spec): Spec => (spec.TaskTemplate ?? {}) as Spec;

/** The spec with new limits (a rolling update: Swarm replaces every task). */
export function withLimits(spec: Spec, r: Resources, pidsLimit: number): Spec {
  return { ...spec, TaskTemplate: { ...template(spec), Resources: { Limits: limits(r, pidsLimit) } } };
}

/** The node constraint that keeps this service's tasks off one node while it drains. */
export const avoidNode = (nodeId: string): string => `node.id!=${nodeId}`;

/** The spec with a placement constraint added or taken away. */
export function withConstraint(spec: Spec, constraint: string, present: boolean): Spec {
  const t = template(spec);
  const placement = (t.Placement ?? {}) as Spec;
  const others = ((placement.Constraints as string[] | undefined) ?? []).filter((c) => c !== constraint);
  return { ...spec, TaskTemplate: { ...t, Placement: { ...placement, Constraints: present ? [...others, constraint] : others } } };
}

/** Placement constraints of the spec. */
export function constraintsOf(spec: Spec): string[] {
  return ((template(spec).Placement as Spec | undefined)?.Constraints as string[] | undefined) ?? [];
}
