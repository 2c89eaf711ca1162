/**
 * Every checked-in stack file builds under mocks. The dev stack is examined in
 * detail by program.test.ts; this covers the production settings.
 */
import { readdirSync } from 'node:fs';
import { expect } from 'chai';
import { named, ofType, readStackConfig, runProgram } from './harness.js';

const ROOT = new URL('../../', import.meta.url);

describe('stack config files', () => {
  const stacks = readdirSync(ROOT)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined);

  it('dev and prod stack files are checked in and readable', () => {
    expect(stacks).to.include.members(['dev', 'prod']);
    for (const stack of stacks) {
      const config = readStackConfig(new URL(`Pulumi.${stack}.yaml`, ROOT).pathname);
      expect(config['aws:region'], stack).to.be.a('string');
      expect(JSON.parse(config['vod:instanceTypes']!), stack).to.be.an('array').that.is.not.empty;
    }
  });

  it('Pulumi.prod.yaml builds: on-demand base, a NAT gateway per zone, two tasks per HTTP service', async function () {
    this.timeout(30_000);
    const run = await runProgram('prod');
    const asg = named('aws:autoscaling/group:Group', 'vod-ecs-asg', run.declared).inputs;
    expect(asg.mixedInstancesPolicy.instancesDistribution).to.include({ onDemandBaseCapacity: 1, onDemandPercentageAboveBaseCapacity: 0 });
    expect(named('awsx:ec2:Vpc', 'vod-network-vpc', run.declared).inputs.natGateways).to.deep.equal({ strategy: 'OnePerAz' });
    expect(named('aws:ecs/service:Service', 'upload-service', run.declared).inputs.desiredCount).to.equal(2);
    expect(named('aws:cloudfront/distribution:Distribution', 'vod-cdn-distribution', run.declared).inputs.priceClass).to.equal('PriceClass_All');
    expect(ofType('aws:ssm/parameter:Parameter', run.declared).map((p) => p.inputs.name)).to.include('/vod/prod/api-token');
    for (const lg of ofType('aws:cloudwatch/logGroup:LogGroup', run.declared)) expect(lg.inputs.retentionInDays).to.equal(30);
    // This account already has the ECS service-linked role (see the harness's getRoles mock): not created again.
    expect(ofType('aws:iam/serviceLinkedRole:ServiceLinkedRole', run.declared)).to.deep.equal([]);
  });
});
