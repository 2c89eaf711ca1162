/** Pure sizing and config rules of the cluster (instance-types, task-sizing, capacity, ecs-host, config-checks), plus small pure helpers of the components. */
import { expect } from 'chai';
import { preflightFunctionCode, spaFallbackFunctionCode } from '../../infra/cdn.js';
import { assertVisibilityFitsHeartbeat } from '@vod/contract';
import { originRoutes } from '../../infra/loadBalancer.js';
import { SHARED_SECRET_PATTERN, assertSharedSecret } from '../../infra/secrets.js';
import { START_FROM_ZERO_EXPRESSION, backlogPerTaskMetrics } from '../../infra/scaling.js';
import { healthCheckCommand } from '../../infra/service.js';
import { instancesNeeded, smallestInstanceType, validateCapacity, validateInstanceTypes } from '../../infra/capacity.js';
import { assertLogRetentionDays, assertPriceClass } from '../../infra/config-checks.js';
import { dockerPlatform, ecsAmiParameter, ecsUserData } from '../../infra/ecs-host.js';
import { INSTANCE_TYPES, awsvpcTasksPerInstance, instanceSpec } from '../../infra/instance-types.js';
import { transcodeTaskSize } from '../../infra/task-sizing.js';

const http = { cpu: 256, memory: 512 };

describe('infra/sizing', () => {
  describe('transcodeTaskSize (ladder → task)', () => {
    it('the default 4-rung ladder needs 2 vCPU and 2304 MiB', () => {
      expect(transcodeTaskSize([1080, 720, 480, 360])).to.deep.equal({ cpu: 2048, memory: 2304 });
    });

    it('grows with the pixels of the ladder, whole vCPUs and 256 MiB steps', () => {
      const small = transcodeTaskSize([360]);
      const hd = transcodeTaskSize([720, 480, 360]);
      const uhd = transcodeTaskSize([2160, 1440, 1080, 720, 480, 360]);
      expect(small.cpu).to.equal(1024);
      expect(hd.cpu).to.equal(1024);
      expect(uhd.cpu).to.equal(8 * 1024); // Σ (h/1080)² ≈ 7.53 → 8 vCPU
      for (const s of [small, hd, uhd]) {
        expect(s.cpu % 1024).to.equal(0);
        expect(s.memory % 256).to.equal(0);
      }
      expect(small.memory).to.be.below(hd.memory);
      expect(hd.memory).to.be.below(uhd.memory);
    });

    it('rejects an empty ladder and heights that are not pixels', () => {
      expect(() => transcodeTaskSize([])).to.throw(/at least one rung/);
      expect(() => transcodeTaskSize([0])).to.throw(/height/);
      expect(() => transcodeTaskSize([720.5])).to.throw(/height/);
    });
  });

  describe('placement', () => {
    it('awsvpc tasks per instance are bounded by ENIs, CPU and memory', () => {
      expect(awsvpcTasksPerInstance(instanceSpec('c6i.large'), http)).to.equal(2); // 3 ENIs - primary
      expect(awsvpcTasksPerInstance(instanceSpec('c6i.xlarge'), http)).to.equal(3);
      expect(awsvpcTasksPerInstance(instanceSpec('c6i.large'), { cpu: 2048, memory: 2304 })).to.equal(1);
      expect(awsvpcTasksPerInstance(instanceSpec('c6i.large'), { cpu: 2048, memory: 4096 })).to.equal(0); // memory
      expect(awsvpcTasksPerInstance(instanceSpec('c6i.large'), { cpu: 4096, memory: 512 })).to.equal(0); // cpu
    });

    it('instancesNeeded bin-packs the always-on services plus one transcode task', () => {
      const large = instanceSpec('c6i.large');
      expect(instancesNeeded(large, [http, http])).to.equal(1);
      expect(instancesNeeded(large, [http, http, { cpu: 2048, memory: 2304 }])).to.equal(2);
      expect(instancesNeeded(instanceSpec('c6i.xlarge'), [http, http, { cpu: 2048, memory: 2304 }])).to.equal(1);
      expect(instancesNeeded(large, [{ cpu: 8192, memory: 512 }])).to.equal(Number.POSITIVE_INFINITY);
    });

    it('smallestInstanceType picks by vCPU, then memory', () => {
      expect(smallestInstanceType(['m6i.large', 'c6i.xlarge', 'c6i.large'])).to.equal(INSTANCE_TYPES['c6i.large']);
    });
  });

  describe('validateInstanceTypes', () => {
    const tasks = [
      { name: 'upload', size: http },
      { name: 'transcode', size: transcodeTaskSize([1080, 720, 480, 360]) },
    ];

    it('accepts one architecture where every task fits, and returns it', () => {
      expect(validateInstanceTypes(['c6i.large', 'm5.large', 'c5a.large'], tasks)).to.equal('x86_64');
      expect(validateInstanceTypes(['c7g.large', 'm6g.large'], tasks)).to.equal('arm64');
    });

    it('lists every problem: unknown types, mixed architectures, burstable types, tasks that do not fit', () => {
      expect(() => validateInstanceTypes([], tasks)).to.throw(/at least one instance type/);
      expect(() => validateInstanceTypes(['c6i.large', 'x9.huge'], tasks)).to.throw(/Unknown instance type "x9.huge"/);
      expect(() => validateInstanceTypes(['c6i.large', 'c7g.large'], tasks)).to.throw(/mix architectures/);
      expect(() => validateInstanceTypes(['t3.large'], tasks)).to.throw(/burstable/);
      expect(() => validateInstanceTypes(['c6i.large'], [{ name: 'transcode', size: transcodeTaskSize([2160, 1440, 1080]) }])).to.throw(
        /transcode .* does not fit on c6i.large/,
      );
    });
  });

  it('validateCapacity checks bounds, the on-demand base and room for the services', () => {
    expect(() => validateCapacity({ minSize: 1, maxSize: 4, onDemandBase: 0 }, 2)).to.not.throw();
    expect(() => validateCapacity({ minSize: 5, maxSize: 4, onDemandBase: 0 }, 2)).to.throw(/minSize 5 > maxSize 4/);
    expect(() => validateCapacity({ minSize: 0, maxSize: 4, onDemandBase: 5 }, 2)).to.throw(/onDemandBase/);
    expect(() => validateCapacity({ minSize: 0, maxSize: 1, onDemandBase: 0 }, 2)).to.throw(/cannot hold the services/);
  });

  it('the AMI comes from the ECS-optimized Amazon Linux 2023 SSM parameter of the architecture', () => {
    expect(ecsAmiParameter('x86_64')).to.equal('/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id');
    expect(ecsAmiParameter('arm64')).to.equal('/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id');
    expect(dockerPlatform('x86_64')).to.equal('linux/amd64');
    expect(dockerPlatform('arm64')).to.equal('linux/arm64');
  });

  it('user data joins the cluster, drains on spot interruption, blocks IMDS for tasks', () => {
    const ud = ecsUserData('vod-cluster', 120);
    expect(ud.startsWith('#!/bin/bash\n')).to.equal(true);
    const config = ud.split('\n');
    expect(config).to.include('ECS_CLUSTER=vod-cluster');
    expect(config).to.include('ECS_ENABLE_SPOT_INSTANCE_DRAINING=true');
    expect(config).to.include('ECS_AWSVPC_BLOCK_IMDS=true');
    expect(config).to.include('ECS_CONTAINER_STOP_TIMEOUT=120s');
  });

  it('the visibility timeout must survive two missed heartbeats', () => {
    expect(() => assertVisibilityFitsHeartbeat(300, 60)).to.not.throw();
    expect(() => assertVisibilityFitsHeartbeat(120, 60)).to.throw(/too short/);
    expect(() => assertVisibilityFitsHeartbeat(50_000, 60)).to.throw(/outside/);
  });

  it('log retention and price class accept only values AWS accepts', () => {
    expect(assertLogRetentionDays(14)).to.equal(14);
    expect(() => assertLogRetentionDays(10)).to.throw(/logRetentionDays/);
    expect(assertPriceClass('PriceClass_100')).to.equal('PriceClass_100');
    expect(() => assertPriceClass('PriceClass_50')).to.throw(/priceClass/);
  });
});

describe('infra component helpers', () => {
  it('ALB routes mirror the local edge and stay within 5 condition values per rule (with the secret header)', () => {
    const routes = originRoutes();
    expect(routes.map((r) => r.priority)).to.deep.equal([...routes.map((r) => r.priority)].sort((a, b) => a - b));
    for (const r of routes) expect(1 + r.paths.length + (r.methods?.length ?? 0), `rule ${r.priority}`).to.be.at.most(5);
    // First match wins, as ALB evaluates by priority.
    const route = (method: string, path: string) =>
      routes.find((r) => (!r.methods || (r.methods as readonly string[]).includes(method)) && r.paths.some((p) => new RegExp(`^${p.replace(/\*/g, '.*')}$`).test(path)))
        ?.service;
    expect(route('POST', '/api/uploads')).to.equal('upload');
    expect(route('PUT', '/api/uploads/abc/parts/3')).to.equal('upload');
    expect(route('GET', '/api/uploads/abc')).to.equal('upload');
    expect(route('DELETE', '/api/uploads/abc')).to.equal('upload');
    expect(route('POST', '/api/videos')).to.equal('upload');
    expect(route('GET', '/api/videos')).to.equal('stream');
    expect(route('GET', '/api/videos/abc/source')).to.equal('stream');
    expect(route('GET', '/videos/abc/master.m3u8')).to.equal('stream');
    expect(route('GET', '/index.html')).to.equal(undefined);
  });

  it('the preflight function answers OPTIONS with 204 + CORS and passes other requests through', () => {
    const run = (origins: string[], method: string, origin?: string) => {
      const handler = new Function(`${preflightFunctionCode(origins)}\nreturn handler;`)() as (e: unknown) => any;
      return handler({ request: { method, uri: '/api/videos', headers: origin ? { origin: { value: origin } } : {} } });
    };
    const pre = run(['*'], 'OPTIONS', 'https://app.example');
    expect(pre.statusCode).to.equal(204);
    expect(pre.headers['access-control-allow-origin'].value).to.equal('*');
    expect(pre.headers['access-control-allow-methods'].value).to.include('PUT');
    expect(pre.headers['access-control-allow-headers'].value).to.include('Authorization');
    expect(run(['*'], 'GET').method).to.equal('GET');
    expect(run(['https://app.example'], 'OPTIONS', 'https://app.example').headers['access-control-allow-origin'].value).to.equal(
      'https://app.example',
    );
    expect(run(['https://app.example'], 'OPTIONS', 'https://evil.example').headers['access-control-allow-origin']).to.equal(undefined);
  });

  it('the SPA fallback function sends client-side routes to /index.html and leaves files alone', () => {
    const handler = new Function(`${spaFallbackFunctionCode()}\nreturn handler;`)() as (e: unknown) => { uri: string };
    const uri = (u: string) => handler({ request: { method: 'GET', uri: u, headers: {} } }).uri;
    expect(uri('/')).to.equal('/index.html');
    expect(uri('/v/0123456789abcdef0123')).to.equal('/index.html');
    expect(uri('/assets/index-abc.js')).to.equal('/assets/index-abc.js');
    expect(uri('/favicon.ico')).to.equal('/favicon.ico');
  });

  it('backlog per task counts waiting and in-flight jobs over running tasks', () => {
    const metrics = backlogPerTaskMetrics('jobs', 'cluster', 'transcode');
    const result = metrics.filter((m) => m.returnData);
    expect(result).to.have.length(1);
    expect(result[0]!.expression).to.equal('(visible + inflight) / running');
    const names = metrics.flatMap((m) => (m.metricStat ? [m.metricStat.metric.metricName] : []));
    expect(names).to.deep.equal(['ApproximateNumberOfMessagesVisible', 'ApproximateNumberOfMessagesNotVisible', 'RunningTaskCount']);
    expect(START_FROM_ZERO_EXPRESSION).to.match(/visible > 0 AND FILL\(desired, 0\) == 0/);
  });

  it('container health checks GET /healthz on the service port with node (no curl in the images)', () => {
    expect(healthCheckCommand(8083)).to.deep.equal([
      'CMD',
      'node',
      '-e',
      "fetch('http://127.0.0.1:8083/healthz').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))",
    ]);
  });

  it('shared secrets are header-safe tokens', () => {
    expect(SHARED_SECRET_PATTERN.test('a'.repeat(64))).to.equal(true);
    expect(() => assertSharedSecret('vod:apiToken', 'short')).to.throw(/32–128/);
    expect(() => assertSharedSecret('vod:apiToken', `${'a'.repeat(40)}*`)).to.throw(/32–128/);
  });
});
