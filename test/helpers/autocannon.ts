/**
 * The parts of autocannon (no type definitions of its own) that the load tests and the
 * zero-downtime benchmark use.
 */
export interface AutocannonResult {
  requests: { total: number };
  latency: { p50: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
}

/** autocannon's per-connection client: watched to count connections the server closed. */
export interface AutocannonClient {
  _connect: () => void;
  conn: NodeJS.EventEmitter;
  destroyed: boolean;
  pipelinedRequests: { size(): number };
}

export interface AutocannonInstance {
  stop(): void;
}

export type Autocannon = (opts: object, cb: (err: Error | null, result: AutocannonResult) => void) => AutocannonInstance;
