/**
 * `vod` as a user runs it (cli/bin/vod.js in a child process) against the
 * whole local stack.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack, type TestStack } from '../support/stack.js';
import { REPO_ROOT, SAMPLE, hasSignature, makeBigVideo } from '../web/helpers.js';

const VOD = path.join(REPO_ROOT, 'cli', 'bin', 'vod.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('vod CLI against the local stack', function () {
  this.timeout(240_000);
  let stack: TestStack;
  let home: string;

  before(async function () {
    this.timeout(120_000);
    home = mkdtempSync(path.join(os.tmpdir(), 'vod-cli-e2e-'));
    stack = await startStack({ env: { UPLOAD_PART_BYTES: String(5 * 1024 * 1024) } });
  });
  after(async () => {
    await stack?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  /** Runs vod; `onStderr` sees stderr as it arrives (and may signal the child). */
  function vod(args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string; onStderr?: (text: string, kill: (sig: NodeJS.Signals) => void) => void } = {}): Promise<Run> {
    return new Promise((resolve, reject) => {
      const env: Record<string, string | undefined> = { ...process.env, VOD_URL: stack.baseUrl, VOD_API_TOKEN: stack.token, VOD_HOME: home, ...opts.env };
      for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
      const child = spawn(process.execPath, [VOD, ...args], { cwd: opts.cwd ?? REPO_ROOT, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += String(d)));
      child.stderr.on('data', (d) => {
        stderr += String(d);
        opts.onStderr?.(stderr, (sig) => child.kill(sig));
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  let videoId: string;

  it('vod upload --json: uploads, waits for the transcode, prints one JSON object with a signed URL', async () => {
    const t0 = performance.now();
    const run = await vod(['upload', SAMPLE, '--json']);
    const seconds = (performance.now() - t0) / 1000;
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr, 'no bar or chatter with --json').to.equal('');
    const lines = run.stdout.trim().split('\n');
    expect(lines).to.have.length(1);
    const out = JSON.parse(lines[0]);
    expect(out).to.include({ status: 'ready' });
    expect(out.durationSeconds).to.be.closeTo(8, 1.5);
    expect(out.renditions.length).to.be.greaterThan(1);
    expect(hasSignature(out.playbackUrl)).to.equal(true);
    videoId = out.videoId;
    console.log(`      vod upload --json: ${seconds.toFixed(1)} s in all (upload ${out.uploadSeconds} s, upload done → ready ${out.transcodeSeconds} s)`);

    const master = await fetch(out.playbackUrl);
    expect(master.status).to.equal(200);
    const text = await master.text();
    expect(text).to.match(/^#EXTM3U/);
    const uris = text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(uris.length).to.equal(out.renditions.length);
    for (const u of uris) expect(hasSignature(new URL(u, out.playbackUrl).toString()), u).to.equal(true);
  });

  it('vod status and vod url, as text and JSON', async function () {
    if (!videoId) this.skip();
    const table = await vod(['status']);
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout).to.match(/^VIDEO ID\s+STATUS/);
    expect(table.stdout).to.match(new RegExp(`${videoId}\\s+ready\\s+0:0[78]`));

    const one = await vod(['status', videoId, '--json']);
    expect(JSON.parse(one.stdout)).to.include({ videoId, status: 'ready' });
    const detail = await vod(['status', videoId]);
    expect(detail.stdout).to.match(/Status:\s+ready/).and.match(/Renditions:\s+\d+p/);

    const url = await vod(['url', videoId]);
    expect(url.code).to.equal(0);
    expect(hasSignature(url.stdout.trim())).to.equal(true);
    const urlJson = JSON.parse((await vod(['url', videoId, '--json'])).stdout);
    expect(urlJson.videoId).to.equal(videoId);
    expect(Date.parse(urlJson.expiresAt)).to.be.greaterThan(Date.now());
  });

  it('Ctrl-C pauses an upload; running the same command again resumes it', async () => {
    const file = makeBigVideo(path.join(home, 'media', 'big-noise.mp4'));
    let signalled = false;
    const first = await vod(['upload', file, '--no-wait'], {
      onStderr: (text, kill) => {
        // Non-TTY progress lines look like "  25% (12 MB of 47 MB, 9.1 MB/s)".
        if (!signalled && /^\s+\d+% \(/m.test(text)) {
          signalled = true;
          kill('SIGINT');
        }
      },
    });
    expect(first.code, first.stderr).to.equal(130);
    const paused = first.stderr.match(/Upload paused with at least (\d+) of (\d+) parts stored/);
    expect(paused, first.stderr).to.not.equal(null);
    const [storedBefore, partCount] = [Number(paused![1]), Number(paused![2])];
    expect(storedBefore).to.be.greaterThan(0).and.lessThan(partCount);

    const second = await vod(['upload', file, '--no-wait']);
    expect(second.code, second.stderr).to.equal(0);
    const resumed = second.stderr.match(/Resuming upload (\S+): (\d+) of (\d+) parts already stored/);
    expect(resumed, second.stderr).to.not.equal(null);
    expect(Number(resumed![2])).to.be.at.least(storedBefore);
    expect(second.stdout.trim()).to.match(/^[a-z0-9]+$/i);
    console.log(`      interrupted at ${storedBefore}/${partCount} parts; the rerun found ${resumed![2]} stored and sent the rest`);

    // Done uploads are forgotten: another run would start afresh.
    const third = await vod(['upload', file, '--no-wait', '--json']);
    expect(third.code).to.equal(0);
    expect(JSON.parse(third.stdout).uploadId).to.not.equal(resumed![1]);
  });

  it('reads the token from ./.data/api-token when no flag or env gives one', async () => {
    const cwd = path.join(home, 'proj');
    mkdirSync(path.join(cwd, '.data'), { recursive: true });
    writeFileSync(path.join(cwd, '.data', 'api-token'), `${stack.token}\n`);
    const run = await vod(['status', '--json'], { cwd, env: { VOD_API_TOKEN: undefined } });
    expect(run.code, run.stderr).to.equal(0);
    expect(JSON.parse(run.stdout).videos).to.be.an('array');
  });

  it('fails clearly: wrong token, unreachable server, unknown video, missing file', async () => {
    const bad = await vod(['upload', SAMPLE], { env: { VOD_API_TOKEN: 'wrong-token-0123456789' } });
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.match(/vod: .*token.*VOD_API_TOKEN/i);

    const down = await vod(['status', '--json'], { env: { VOD_URL: 'http://127.0.0.1:9' } });
    expect(down.code).to.equal(1);
    expect(JSON.parse(down.stdout).error.code).to.equal('network_error');
    expect(down.stderr).to.match(/Is the server running\?/);

    const unknown = await vod(['url', 'nosuchvideo0000000000']);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.match(/^vod: /);

    const missing = await vod(['upload', path.join(home, 'nope.mp4')]);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.match(/File not found/);
  });

  it('vod edit names a video, vod retry refuses a ready one, vod rm deletes it (then 404), vod redrive', async function () {
    if (!videoId) this.skip();
    const edit = await vod(['edit', videoId, '--title', 'Hello from the CLI']);
    expect(edit.code, edit.stderr).to.equal(0);
    expect(edit.stdout).to.match(/^Title:\s+Hello from the CLI$/m);
    expect((await vod(['status'])).stdout).to.match(new RegExp(`${videoId}\\s+ready.*Hello from the CLI`));

    const retry = await vod(['retry', videoId]);
    expect(retry.code).to.equal(1);
    expect(retry.stderr).to.match(/only a failed video can be retried/);

    const rm = await vod(['rm', videoId]);
    expect(rm.code, rm.stderr).to.equal(0);
    expect(rm.stdout.trim()).to.equal(`Deleted ${videoId}`);
    const again = await vod(['rm', videoId, '--json']);
    expect(again.code).to.equal(1);
    expect(JSON.parse(again.stdout).error.code).to.equal('not_found');
    expect((await vod(['status', '--json'])).stdout).to.not.contain(videoId);

    const redrive = await vod(['redrive']);
    expect(redrive.code, redrive.stderr).to.equal(0);
    expect(redrive.stdout.trim()).to.equal('The dead-letter queue is empty: nothing to move.');
  });
});
