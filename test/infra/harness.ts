/**
 * Pulumi mocks for the infra tests: no engine, no plugins, no network.
 *
 * `pulumi.runtime.setMocks` routes every resource registration and invoke to
 * the functions below, which record what the program declared and return
 * plausible provider outputs (ARNs, names, URLs) so downstream inputs — policy
 * documents, environment variables — resolve to realistic strings. awsx
 * components (Vpc, ecr.Image) are multi-language components run by a provider
 * plugin: here they are opaque, so the mock returns the outputs the program
 * reads from them (subnet ids, image URI).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as pulumi from '@pulumi/pulumi';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const DISTRIBUTION_ID = 'E2MOCKDIST0001';
export const DISTRIBUTION_ARN = `arn:aws:cloudfront::${ACCOUNT}:distribution/${DISTRIBUTION_ID}`;
/** The CloudFront origin-facing managed prefix list. */
export const PREFIX_LIST_ID = 'pl-3b927c52';
/** The region's S3 prefix list (what the S3 gateway endpoint routes). */
export const S3_PREFIX_LIST_ID = 'pl-63a5400a';
export const AMI_ID = 'ami-0mockecsal2023';

/** One resource the program declared: its type token, logical name, inputs and the mocked state. */
export interface Declared {
  type: string;
  name: string;
  /** The id the mock gave the resource (what other resources receive as `resource.id`). */
  id: string;
  /** Inputs with Pulumi secrets unwrapped to their values. */
  inputs: Record<string, any>;
  /** Top-level input names that arrived as Pulumi secrets (encrypted in state, masked in previews). */
  secretInputs: string[];
  /** Explicit provider reference (`urn::id`), if any. */
  provider?: string;
  /** Resource options the engine would see (mocks do not pass them to `newResource`; see {@link installMocks}). */
  options: { retainOnDelete: boolean; dependencies: string[] };
  state: Record<string, any>;
}

/** Pulumi's wire marker for a secret value (`4dabf18193072939515e22adb298388d` = special sig key). */
const SECRET_SIG_KEY = '4dabf18193072939515e22adb298388d';
const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';

/** Replaces secret wrappers by their values, recursively. */
function unwrapSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrapSecrets);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (o[SECRET_SIG_KEY] === SECRET_SIG) return unwrapSecrets(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
  }
  return v;
}

/** Whether a value is, or contains, a secret wrapper. */
function containsSecret(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(containsSecret);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return o[SECRET_SIG_KEY] === SECRET_SIG || Object.values(o).some(containsSecret);
  }
  return false;
}

export const declared: Declared[] = [];
export const invoked: { token: string; inputs: Record<string, any> }[] = [];

const suffix = (name: string) => `${name}-m0ck`;

/**
 * Options of the registration in flight, by `type::name`: the mock monitor
 * hands `newResource` only type, name and inputs, so {@link installMocks}
 * reads `retainOnDelete` and the dependency URNs off the request first.
 */
const pendingOptions = new Map<string, Declared['options']>();

interface RegisterResourceRequest {
  getType(): string;
  getName(): string;
  getRetainondelete(): boolean;
  getDependenciesList(): string[];
}

function mockState(type: string, name: string, inputs: Record<string, any>): { id: string; state: Record<string, any> } {
  const s: Record<string, any> = { ...inputs };
  const withName = (key = 'name') => (s[key] = inputs[key] ?? suffix(name));
  switch (type) {
    case 'aws:s3/bucket:Bucket': {
      const bucket = withName('bucket');
      Object.assign(s, { arn: `arn:aws:s3:::${bucket}`, bucketRegionalDomainName: `${bucket}.s3.${REGION}.amazonaws.com` });
      return { id: bucket, state: s };
    }
    case 'aws:sqs/queue:Queue': {
      const q = withName();
      Object.assign(s, { arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${q}`, url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${q}` });
      return { id: s.url, state: s };
    }
    case 'aws:ssm/parameter:Parameter':
      s.arn = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${inputs.name}`;
      return { id: inputs.name, state: s };
    case 'aws:cloudfront/distribution:Distribution':
      Object.assign(s, { arn: DISTRIBUTION_ARN, domainName: 'd111111abcdef8.cloudfront.net', hostedZoneId: 'Z2FDTNDATAQYW2' });
      return { id: DISTRIBUTION_ID, state: s };
    case 'aws:cloudfront/publicKey:PublicKey':
      return { id: 'K2MOCKPUBLICKEY', state: s };
    case 'aws:cloudwatch/logGroup:LogGroup': {
      const n = withName();
      s.arn = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${n}`;
      return { id: n, state: s };
    }
    case 'aws:ecr/repository:Repository': {
      const n = withName();
      Object.assign(s, {
        arn: `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/${n}`,
        repositoryUrl: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${n}`,
      });
      return { id: n, state: s };
    }
    case 'aws:iam/role:Role': {
      const n = withName();
      s.arn = `arn:aws:iam::${ACCOUNT}:role/${n}`;
      return { id: n, state: s };
    }
    case 'aws:ecs/cluster:Cluster': {
      const n = withName();
      s.arn = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${n}`;
      return { id: s.arn, state: s };
    }
    case 'aws:ecs/taskDefinition:TaskDefinition':
      s.arn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${inputs.family}:1`;
      return { id: inputs.family, state: s };
    case 'aws:lb/loadBalancer:LoadBalancer':
      Object.assign(s, {
        arn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:loadbalancer/app/${name}/50dc6c495c0c9188`,
        dnsName: `${name}-1234567890.${REGION}.elb.amazonaws.com`,
        zoneId: 'Z35SXDOTRQ7X7K',
      });
      return { id: s.arn, state: s };
    case 'aws:ec2/launchTemplate:LaunchTemplate':
      Object.assign(s, { latestVersion: 1, arn: `arn:aws:ec2:${REGION}:${ACCOUNT}:launch-template/lt-mock` });
      return { id: 'lt-0mock', state: s };
    case 'aws:acm/certificate:Certificate':
      Object.assign(s, {
        arn: `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/${name}`,
        domainValidationOptions: [
          {
            domainName: inputs.domainName,
            resourceRecordName: `_x1.${inputs.domainName}.`,
            resourceRecordType: 'CNAME',
            resourceRecordValue: '_x2.acm-validations.aws.',
          },
        ],
      });
      return { id: s.arn, state: s };
    case 'aws:acm/certificateValidation:CertificateValidation':
      return { id: `${name}-id`, state: s };
    case 'tls:index/privateKey:PrivateKey':
      Object.assign(s, {
        publicKeyPem: `-----BEGIN PUBLIC KEY-----\nMOCK${name}\n-----END PUBLIC KEY-----\n`,
        privateKeyPem: `-----BEGIN RSA PRIVATE KEY-----\nMOCK${name}\n-----END RSA PRIVATE KEY-----\n`,
        privateKeyOpenssh: `-----BEGIN OPENSSH PRIVATE KEY-----\nMOCK${name}\n-----END OPENSSH PRIVATE KEY-----\n`,
      });
      return { id: `${name}-id`, state: s };
    case 'awsx:ec2:Vpc':
      Object.assign(s, {
        vpcId: 'vpc-0mock',
        publicSubnetIds: ['subnet-public-a', 'subnet-public-b'],
        privateSubnetIds: ['subnet-private-a', 'subnet-private-b'],
      });
      return { id: `${name}-id`, state: s };
    case 'awsx:ecr:Image':
      s.imageUri = `${inputs.repositoryUrl}@sha256:${'0'.repeat(64)}`;
      return { id: `${name}-id`, state: s };
    default:
      if (s.name === undefined) s.name = suffix(name);
      if (s.arn === undefined) s.arn = `arn:aws:mock:${REGION}:${ACCOUNT}:${type.replace(/[^A-Za-z0-9]/g, '-')}/${name}`;
      return { id: `${name}-id`, state: s };
  }
}

let mocksFor: { stack: string; ready: Promise<void> } | undefined;

/**
 * Installs the mocks (mocha runs every test file in one process, so they are
 * shared). `stack` is what `pulumi.getStack()` returns; changing it re-installs.
 */
export function installMocks(stack = 'dev'): Promise<void> {
  if (mocksFor?.stack === stack) return mocksFor.ready;
  const ready = pulumi.runtime.setMocks(
    {
      newResource(args) {
        const raw = args.inputs as Record<string, unknown>;
        const inputs = unwrapSecrets(raw) as Record<string, any>;
        const secretInputs = Object.keys(raw).filter((k) => containsSecret(raw[k]));
        const { id, state } = mockState(args.type, args.name, inputs);
        const options = pendingOptions.get(`${args.type}::${args.name}`) ?? { retainOnDelete: false, dependencies: [] };
        declared.push({ type: args.type, name: args.name, id, inputs, secretInputs, state, provider: args.provider, options });
        return { id, state };
      },
      call(args) {
        invoked.push({ token: args.token, inputs: args.inputs });
        switch (args.token) {
          case 'aws:index/getCallerIdentity:getCallerIdentity':
            return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/mock`, userId: 'AIDMOCK', id: ACCOUNT };
          case 'aws:ec2/getManagedPrefixList:getManagedPrefixList':
            return {
              id: /\.s3$/.test(args.inputs.name) ? S3_PREFIX_LIST_ID : PREFIX_LIST_ID,
              name: args.inputs.name,
              maxEntries: 55,
              addressFamily: 'IPv4',
            };
          case 'aws:iam/getRoles:getRoles':
            // The dev stack plays a new account without the ECS service-linked role; others have it.
            return {
              id: 'roles',
              arns: [],
              names: pulumi.getStack() === 'dev' ? [] : ['AWSServiceRoleForECS'],
              pathPrefix: args.inputs.pathPrefix,
              nameRegex: args.inputs.nameRegex,
            };
          case 'aws:ssm/getParameter:getParameter':
            return { name: args.inputs.name, type: 'String', value: AMI_ID, insecureValue: AMI_ID, arn: `arn:aws:ssm:${REGION}::parameter${args.inputs.name}` };
          default:
            throw new Error(`Unmocked invoke ${args.token}`);
        }
      },
    },
    'vod-platform',
    stack,
    false,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: RegisterResourceRequest, callback: unknown): unknown;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    pendingOptions.set(`${req.getType()}::${req.getName()}`, {
      retainOnDelete: req.getRetainondelete(),
      dependencies: req.getDependenciesList(),
    });
    return register(req, callback);
  };
  mocksFor = { stack, ready };
  return ready;
}

/**
 * Reads the `config:` map of a Pulumi stack file. Supports what
 * Pulumi.dev.yaml uses: `key: value` lines, `#` comments, and values that are
 * plain scalars, double-quoted strings or one-line JSON lists/objects.
 * Returns values as Pulumi keeps them in its config store (strings; JSON text
 * for lists and objects).
 */
export function readStackConfig(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  let inConfig = false;
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.replace(/\s+$/, '');
    if (/^\s*(#|$)/.test(line)) continue;
    if (/^config:\s*$/.test(line)) {
      inConfig = true;
      continue;
    }
    if (!/^\s/.test(line)) {
      inConfig = false;
      continue;
    }
    if (!inConfig) continue;
    const m = /^\s+([A-Za-z0-9_-]+:[A-Za-z0-9_-]+):\s*(.*)$/.exec(line);
    if (!m) throw new Error(`Unsupported line in ${path}: ${line}`);
    const [, key, rawValue] = m;
    const value = rawValue!.replace(/\s+#.*$/, '');
    if (value.startsWith('[') || value.startsWith('{')) {
      JSON.parse(value); // must be JSON-compatible so Pulumi and this reader agree
      out[key!] = value;
    } else if (value.startsWith('"')) {
      out[key!] = JSON.parse(value) as string;
    } else {
      out[key!] = value;
    }
  }
  return out;
}

/** Resolves an Output (or plain value) to its value. Outputs here are always known: mocks run as an update, not a preview. */
export function resolve<T>(o: pulumi.Input<T>): Promise<T> {
  return new Promise((res) => pulumi.output(o).apply((v) => res(v as T)));
}

/** Waits until no new resource has been declared for a few event-loop turns. */
export async function settle(): Promise<void> {
  let stableRounds = 0;
  let last = -1;
  while (stableRounds < 5) {
    await new Promise((r) => setTimeout(r, 10));
    if (declared.length === last) stableRounds++;
    else {
      stableRounds = 0;
      last = declared.length;
    }
  }
}

/** What running the program produced: resolved exports, and the resources and invokes it (alone) declared. */
export interface ProgramRun {
  outputs: Record<string, unknown>;
  declared: Declared[];
  invoked: { token: string; inputs: Record<string, any> }[];
}

/** A minimal built web app (index.html + one hashed asset) in a temp dir, made once per process. */
let webDist: string | undefined;
function webDistFixture(): string {
  if (!webDist) {
    webDist = mkdtempSync(path.join(os.tmpdir(), 'vod-web-dist-'));
    mkdirSync(path.join(webDist, 'assets'));
    writeFileSync(path.join(webDist, 'index.html'), '<!doctype html><title>vod</title>');
    writeFileSync(path.join(webDist, 'assets', 'index-abc123.js'), '');
    process.once('exit', () => rmSync(webDist!, { recursive: true, force: true }));
  }
  return webDist;
}

const runs = new Map<string, Promise<ProgramRun>>();
let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs infra/index.ts under mocks as stack `stack`, with the config of
 * `Pulumi.<stack>.yaml` (plus `extraConfig`, e.g. `{"vod:webhookUrls": "[…]"}`), waits for every output, and returns the module's
 * exports resolved with the resources and invokes that run (alone) declared.
 * One run per stack and extra config; runs never overlap. Each run imports a fresh instance of
 * the program module (`index.ts?stack=…`).
 */
export function runProgram(stack = 'dev', extraConfig: Record<string, string> = {}): Promise<ProgramRun> {
  const key = Object.keys(extraConfig).length ? `${stack}+${JSON.stringify(extraConfig)}` : stack;
  let run = runs.get(key);
  if (!run) {
    run = queue.then(async () => {
      await settle();
      await installMocks(stack);
      const [d0, i0] = [declared.length, invoked.length];
      pulumi.runtime.setAllConfig({
        ...readStackConfig(new URL(`../../Pulumi.${stack}.yaml`, import.meta.url).pathname),
        // `npm test` does not build the web app; the program refuses to deploy without one.
        'vod:webDistDir': webDistFixture(),
        ...extraConfig,
      });
      const mod = (await import(new URL(`../../infra/index.ts?stack=${encodeURIComponent(key)}`, import.meta.url).href)) as Record<string, unknown>;
      const outputs: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(mod)) outputs[k] = await resolve(v as pulumi.Input<unknown>);
      await settle();
      return { outputs, declared: declared.slice(d0), invoked: invoked.slice(i0) };
    });
    queue = run.catch(() => undefined);
    runs.set(key, run);
  }
  return run;
}

/** {@link runProgram} for the dev stack. */
export const runDevProgram = (): Promise<ProgramRun> => runProgram('dev');

/** Declared resources of one type token, e.g. `aws:s3/bucket:Bucket` (of `among`, default: all declared so far). */
export function ofType(type: string, among: Declared[] = declared): Declared[] {
  return among.filter((d) => d.type === type);
}

/** The one declared resource of `type` whose logical name is `name` (of `among`, default: all declared so far). */
export function named(type: string, name: string, among: Declared[] = declared): Declared {
  const found = among.filter((d) => d.type === type && d.name === name);
  if (found.length !== 1) {
    throw new Error(`Expected one ${type} named ${name}, found ${found.length} (have: ${ofType(type, among).map((d) => d.name).join(', ')})`);
  }
  return found[0]!;
}
