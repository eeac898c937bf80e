import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AppRow } from '../../src/domain/types.js';
import { cgroupMemoryUsage } from '../../src/docker/cgroup-memory.js';
import { timed } from '../../src/metrics/deploy-metrics.js';
import { Metrics } from '../../src/metrics/registry.js';
import { parseTraffic } from '../../src/router/traffic.js';
import type { AppContainerStatus } from '../../src/runner/container-statuses.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';

const SHOW_STAT = [
  '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime',
  'fe_web,FRONTEND,,,0,1,2000,7,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,1,,,,0,7,0,0,0,0,,0,1,7,,,0,0,0,0,,,,,,,,',
  'be_web,blue,0,0,0,1,,7,0,0,,0,,0,0,0,0,no check,1,1,0,,,1,,,1,3,1,,7,,2,0,,1,,,,0,5,0,0,2,0,,,,,0,0,,,,,1,,,0,0,3,4',
  'be_web,BACKEND,0,0,0,1,200,7,0,0,0,0,,0,0,0,0,UP,1,1,0,,0,1,0,,1,3,0,,7,,1,0,,1,,,,0,5,0,0,2,0,,,,7,0,0,0,0,0,0,1,,,0,0,3,4',
  '',
].join('\n');

const app = (name: string, container: string | null): AppRow => ({ name, container } as AppRow);

function metricsWith(statuses: Map<string, AppContainerStatus>, memory: Record<string, number>, traffic = (): ReturnType<typeof parseTraffic> => parseTraffic(SHOW_STAT)) {
  const asked: string[] = [];
  const m = new Metrics({
    apps: () => [app('web', 'web-v1'), app('new', null)],
    statuses: async () => statuses,
    memoryUsage: async (id) => {
      asked.push(id);
      return memory[id] ?? null;
    },
    traffic: async () => traffic(),
    log: pino({ level: 'silent' }),
  });
  return { m, asked };
}

describe('metrics', () => {
  it('parses HAProxy show stat into per-app traffic from BACKEND rows', () => {
    expect(parseTraffic(SHOW_STAT)).toEqual([{ app: 'web', requests: 7, responses5xx: 2, avgResponseMs: 3, avgTotalMs: 4 }]);
  });

  it('counts deploys, releases and step durations exactly, and reads app gauges at scrape time', async () => {
    const { m, asked } = metricsWith(new Map([['web', { status: 'running', restartCount: 2, containerId: 'c1' }], ['new', { status: 'none', restartCount: 0, containerId: null }]]), { c1: 50_000_000 });
    m.deployFinished('web', 'push', 'succeeded');
    m.deployFinished('web', 'push', 'failed');
    m.deployFinished('web', 'push', 'failed');
    m.released('web', 'build');
    m.stepTook('build', 1500);
    m.stepTook('health_check', 200);
    await expect(timed(m, 'build', async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    const { samples, types } = parsePrometheusText(await m.render());
    expect(sampleValue(samples, 'minpaas_deploys_total', { app: 'web', source: 'push', outcome: 'succeeded' })).toBe(1);
    expect(sampleValue(samples, 'minpaas_deploys_total', { app: 'web', source: 'push', outcome: 'failed' })).toBe(2);
    expect(sampleValue(samples, 'minpaas_releases_total', { app: 'web', kind: 'build' })).toBe(1);
    expect(sampleValue(samples, 'minpaas_build_duration_seconds_count')).toBe(2);
    expect(sampleValue(samples, 'minpaas_build_duration_seconds_bucket', { le: '2.5' })).toBe(2);
    expect(sampleValue(samples, 'minpaas_health_check_duration_seconds_sum')).toBeCloseTo(0.2);
    expect(sampleValue(samples, 'minpaas_switch_duration_seconds_count')).toBe(0);
    expect(types.get('minpaas_build_duration_seconds')).toBe('histogram');
    expect(sampleValue(samples, 'minpaas_app_container_restarts', { app: 'web' })).toBe(2);
    expect(sampleValue(samples, 'minpaas_app_memory_bytes', { app: 'web' })).toBe(50_000_000);
    expect(samples.some((s) => s.labels.app === 'new')).toBe(false);
    expect(asked).toEqual(['c1']);
    expect(sampleValue(samples, 'minpaas_app_http_requests', { app: 'web' })).toBe(7);
    expect(sampleValue(samples, 'minpaas_app_http_responses_5xx', { app: 'web' })).toBe(2);
    expect(sampleValue(samples, 'minpaas_router_up')).toBe(1);
    // The control plane's own process metrics.
    expect(types.get('process_resident_memory_bytes')).toBe('gauge');
  });

  it('a router that does not answer is router_up 0, not a failed scrape', async () => {
    const { m } = metricsWith(new Map(), {}, () => {
      throw new Error('no socket');
    });
    const { samples } = parsePrometheusText(await m.render());
    expect(sampleValue(samples, 'minpaas_router_up')).toBe(0);
  });

  it('reads a container\'s memory from its cgroup file only for a real container id', async () => {
    expect(await cgroupMemoryUsage('../../etc/passwd')).toBeNull();
    expect(await cgroupMemoryUsage('0'.repeat(64))).toBeNull();
  });

  it('the strict parser refuses what is not Prometheus text', () => {
    expect(() => parsePrometheusText('# TYPE x counter\nx{a="1"} one\n')).toThrow(/bad value/);
    expect(() => parsePrometheusText('y 1\n')).toThrow(/without a TYPE/);
    expect(() => parsePrometheusText('# TYPE x counter\nx{a=1} 1\n')).toThrow(/bad labels|not a sample/);
  });
});
