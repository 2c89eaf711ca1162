/**
 * Each container, installed and started the way its Dockerfile says — its
 * COPY steps into an empty directory, its `npm ci --omit=dev --workspace …`,
 * its WORKDIR, ENV and CMD — answers `GET /healthz`. A source the image does
 * not copy, a runtime library that is only a devDependency, or an entry point
 * that does not start fails here instead of in production. (No Docker engine
 * is needed: the base image's Node and Debian's ffmpeg are this machine's.)
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { REPO_ROOT, freePort } from '../../local/stack.js';
import { copySources, parseDockerfile } from '../support/dockerfile.js';
import { startTestAws, type TestAws } from '../support/emulator.js';

const run = promisify(execFile);

interface ImagePlan {
  /** Files and directories to copy: repo-relative source → path inside the image. */
  copies: { from: string; to: string }[];
  /** `npm ci …` commands, with the image directory they run in. */
  installs: { cwd: string; command: string }[];
  env: Record<string, string>;
  workdir: string;
  cmd: string[];
}

/** What a Dockerfile does, as far as this test can reproduce it (apt-get steps are the host's business). */
function planImage(dockerfile: string): ImagePlan {
  const plan: ImagePlan = { copies: [], installs: [], env: {}, workdir: '/', cmd: [] };
  for (const ins of parseDockerfile(dockerfile)) {
    if (ins.keyword === 'WORKDIR') plan.workdir = path.posix.resolve(plan.workdir, ins.args);
    else if (ins.keyword === 'ENV') {
      const m = /^(\S+?)[= ](.*)$/.exec(ins.args);
      if (m) plan.env[m[1]!] = m[2]!;
    } else if (ins.keyword === 'COPY') {
      const { from, sources } = copySources(ins.args);
      if (from) continue;
      const dest = ins.args.split(/\s+/).at(-1)!;
      const target = path.posix.resolve(plan.workdir, dest);
      for (const src of sources) {
        const to = dest.endsWith('/') || sources.length > 1 ? path.posix.join(target, path.posix.basename(src)) : target;
        plan.copies.push({ from: src, to });
      }
    } else if (ins.keyword === 'RUN' && /\bnpm ci\b/.test(ins.args)) {
      const command = ins.args.split('&&').map((s) => s.trim()).find((s) => s.startsWith('npm ci'))!;
      plan.installs.push({ cwd: plan.workdir, command });
    } else if (ins.keyword === 'CMD') plan.cmd = JSON.parse(ins.args) as string[];
  }
  return plan;
}

async function waitForHealth(url: string, child: ChildProcess, log: () => string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return (await res.json()) as Record<string, unknown>;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no healthy answer from ${url}:\n${log()}`);
}

describe('packaging: each image installs only its production dependencies and boots', function () {
  this.timeout(300_000);
  let aws: TestAws;
  const dirs: string[] = [];
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });

  before(async () => {
    aws = await startTestAws();
  });
  after(async () => {
    await aws?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const services = {
    upload: { portVar: 'PORT', env: { JOBS_QUEUE_URL: '', VOD_API_TOKEN: 'packaging-test-token-0123456789abcdef' } },
    stream: {
      portVar: 'PORT',
      env: {
        JOBS_QUEUE_URL: '',
        JOBS_DLQ_URL: '',
        VOD_API_TOKEN: 'packaging-test-token-0123456789abcdef',
        PUBLIC_BASE_URL: 'https://cdn.example.com',
        CLOUDFRONT_KEY_PAIR_ID: 'KPACKAGINGTEST',
        CLOUDFRONT_PRIVATE_KEY: privateKey,
      },
    },
    transcode: { portVar: 'HEALTH_PORT', env: { JOBS_QUEUE_URL: '', CONTROL_QUEUE_URL: '', POLL_WAIT_SECONDS: '1' } },
  } as const;

  for (const [name, svc] of Object.entries(services)) {
    it(`${name}: the Dockerfile's files and production install start the service`, async () => {
      const plan = planImage(readFileSync(path.join(REPO_ROOT, 'containers', name, 'Dockerfile'), 'utf8'));
      expect(plan.installs.map((i) => i.command).join(' '), 'installs production dependencies only').to.match(/--omit=dev/);
      const root = mkdtempSync(path.join(os.tmpdir(), `vod-image-${name}-`));
      dirs.push(root);
      const inImage = (p: string) => path.join(root, p);
      for (const c of plan.copies) {
        mkdirSync(path.dirname(inImage(c.to)), { recursive: true });
        cpSync(path.join(REPO_ROOT, c.from), inImage(c.to), { recursive: true });
      }
      for (const install of plan.installs) {
        const args = [...install.command.split(/\s+/).slice(1), '--prefer-offline', '--no-audit', '--no-fund'];
        await run('npm', args, { cwd: inImage(install.cwd), env: { ...process.env, NODE_ENV: 'production' }, maxBuffer: 16 * 1024 * 1024 });
      }
      // Nothing from the root package's tooling or another service's libraries came along.
      const installed = (pkg: string) => {
        try {
          readFileSync(inImage(path.posix.join('/app/node_modules', pkg, 'package.json')));
          return true;
        } catch {
          return false;
        }
      };
      for (const foreign of ['@pulumi/pulumi', 'mocha', 'fauxqs', 'vite', 'commander']) expect(installed(foreign), `${foreign} in the ${name} image`).to.equal(false);
      // multipart bodies: uploads (upload service) and caption files (stream service); never the workers.
      if (name === 'transcode') expect(installed('multer'), `multer in the ${name} image`).to.equal(false);

      const port = await freePort();
      const [cmd, ...cmdArgs] = plan.cmd;
      expect(cmd).to.equal('node');
      let output = '';
      const child = spawn(process.execPath, cmdArgs, {
        cwd: inImage(plan.workdir),
        env: {
          PATH: process.env.PATH,
          ...plan.env,
          AWS_ENDPOINT_URL: `http://127.0.0.1:${aws.server.port}`,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          S3_FORCE_PATH_STYLE: 'true',
          UPLOADS_BUCKET: aws.uploadsBucket,
          MEDIA_BUCKET: aws.mediaBucket,
          HOST: '127.0.0.1',
          ...svc.env,
          ...('JOBS_QUEUE_URL' in svc.env ? { JOBS_QUEUE_URL: aws.jobsQueueUrl } : {}),
          ...('JOBS_DLQ_URL' in svc.env ? { JOBS_DLQ_URL: aws.dlqUrl } : {}),
          ...('CONTROL_QUEUE_URL' in svc.env ? { CONTROL_QUEUE_URL: aws.controlQueueUrl } : {}),
          [svc.portVar]: String(port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (d) => (output += d));
      child.stderr!.on('data', (d) => (output += d));
      try {
        const health = await waitForHealth(`http://127.0.0.1:${port}/healthz`, child, () => output);
        expect(health.ok).to.equal(true);
      } finally {
        child.kill('SIGTERM');
        if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
      }
      expect(child.exitCode, `clean shutdown on SIGTERM:\n${output}`).to.equal(0);
    });
  }
});
