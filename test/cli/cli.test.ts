import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import { ApiError, type VideoRecord } from '@vod/client';
import { CliError, editCommand, thumbnailCommand, redriveCommand, removeCommand, retryCommand, statusCommand, uploadCommand, urlCommand, type Context } from '../../cli/commands.js';
import { resolveConfig } from '../../cli/config.js';
import { escapeControl, formatBytes, formatDuration, formatEta, formatRate, formatStatus, formatTable, formatVideoTable, guessContentType } from '../../cli/format.js';
import { buildProgram, describeError, type GlobalOptions, type Handlers } from '../../cli/program.js';
import { UploadStateStore, uploadKey } from '../../cli/state.js';
import { FakeApi } from '../client/fake-api.js';

describe('cli/config resolveConfig', () => {
  const noFile = () => {
    throw new Error('ENOENT');
  };
  it('defaults to the local stack URL', () => {
    expect(resolveConfig({ flags: {}, env: {}, cwd: '/x', readFile: noFile })).to.deep.equal({ baseUrl: 'http://127.0.0.1:8080', tokenSource: 'none' });
  });
  it('flags beat env, env beats the .data/api-token file', () => {
    const readFile = (f: string) => {
      expect(f).to.equal(path.join('/proj', '.data', 'api-token'));
      return 'filetoken\n';
    };
    const env = { VOD_URL: 'http://env:1/', VOD_API_TOKEN: 'envtoken' };
    expect(resolveConfig({ flags: { url: 'https://flag/', token: 'flagtoken' }, env, cwd: '/proj', readFile })).to.deep.equal({
      baseUrl: 'https://flag',
      token: 'flagtoken',
      tokenSource: 'flag',
    });
    expect(resolveConfig({ flags: {}, env, cwd: '/proj', readFile })).to.deep.equal({ baseUrl: 'http://env:1', token: 'envtoken', tokenSource: 'env' });
    expect(resolveConfig({ flags: {}, env: {}, cwd: '/proj', readFile })).to.include({ token: 'filetoken', tokenSource: 'file' });
  });
  it('rejects a bad URL clearly', () => {
    expect(() => resolveConfig({ flags: { url: 'nope' }, env: {}, cwd: '/', readFile: noFile })).to.throw(/Invalid API URL "nope"/);
    expect(() => resolveConfig({ flags: { url: 'ftp://x' }, env: {}, cwd: '/', readFile: noFile })).to.throw(/http/);
  });
});

describe('cli/format', () => {
  it('bytes, rates, ETA and durations', () => {
    expect(formatBytes(999)).to.equal('999 B');
    expect(formatBytes(1_234_567)).to.equal('1.2 MB');
    expect(formatBytes(25_000_000)).to.equal('25 MB');
    expect(formatBytes(3.2e9)).to.equal('3.2 GB');
    expect(formatRate(3_456_000)).to.equal('3.5 MB/s');
    expect(formatRate(0)).to.equal('– MB/s');
    expect(formatEta(42.4)).to.equal('42s');
    expect(formatEta(185)).to.equal('3m 05s');
    expect(formatEta(3720)).to.equal('1h 02m');
    expect(formatEta(Number.NaN)).to.equal('–');
    expect(formatDuration(7.4)).to.equal('0:07');
    expect(formatDuration(3723)).to.equal('1:02:03');
    expect(formatDuration(undefined)).to.equal('–');
  });
  it('status labels', () => {
    expect(formatStatus({ status: 'processing', progress: 41.6 })).to.equal('processing 42%');
    expect(formatStatus({ status: 'failed', progress: 0, error: 'no video stream' })).to.equal('failed: no video stream');
    expect(formatStatus({ status: 'ready', progress: 100 })).to.equal('ready');
  });
  it('tables align columns and list newest first', () => {
    expect(formatTable(['A', 'BB'], [['xxx', 'y']])).to.equal('A    BB\nxxx  y');
    const v = (id: string, createdAt: string, extra: Partial<VideoRecord> = {}): VideoRecord => ({
      videoId: id,
      status: 'ready',
      progress: 100,
      createdAt,
      updatedAt: createdAt,
      ...extra,
    });
    const out = formatVideoTable([
      v('old', '2024-01-01T00:00:00.000Z'),
      v('new', '2024-02-01T00:00:00.000Z', { durationSeconds: 10, renditions: [{ name: '720p', width: 1280, height: 720, bandwidth: 1 }], filename: 'a.mp4' }),
    ]);
    const lines = out.split('\n');
    expect(lines[0]).to.match(/^VIDEO ID\s+STATUS\s+DURATION\s+RENDITIONS\s+TITLE\s+CREATED/);
    expect(lines[1]).to.match(/^new\s+ready\s+0:10\s+720p\s+a\.mp4\s+2024-02-01 00:00:00$/);
    expect(lines[2]).to.match(/^old\s+ready/);
    expect(formatVideoTable([])).to.match(/No videos yet/);
  });
  it('content types by extension', () => {
    expect(guessContentType('a.MP4')).to.equal('video/mp4');
    expect(guessContentType('a.webm')).to.equal('video/webm');
    expect(guessContentType('a.bin')).to.equal('application/octet-stream');
  });
});

describe('cli/program argument parsing', () => {
  function parse(argv: string[]) {
    const calls: { cmd: string; args: unknown[] }[] = [];
    const handlers: Handlers = {
      upload: async (file, opts, g) => void calls.push({ cmd: 'upload', args: [file, opts, g] }),
      status: async (id, g, opts) => void calls.push({ cmd: 'status', args: opts ? [id, g, opts] : [id, g] }),
      url: async (id, g) => void calls.push({ cmd: 'url', args: [id, g] }),
      edit: async (id, opts, g) => void calls.push({ cmd: 'edit', args: [id, opts, g] }),
      rm: async (id, g) => void calls.push({ cmd: 'rm', args: [id, g] }),
      retry: async (id, opts, g) => void calls.push({ cmd: 'retry', args: [id, opts, g] }),
      redrive: async (opts, g) => void calls.push({ cmd: 'redrive', args: [opts, g] }),
      download: async (id, g) => void calls.push({ cmd: 'download', args: [id, g] }),
      thumbnail: async (id, opts, g) => void calls.push({ cmd: 'thumbnail', args: [id, opts, g] }),
      captionsAdd: async (id, file, opts, g) => void calls.push({ cmd: 'captionsAdd', args: [id, file, opts, g] }),
      captionsList: async (id, g) => void calls.push({ cmd: 'captionsList', args: [id, g] }),
      captionsRemove: async (id, lang, g) => void calls.push({ cmd: 'captionsRemove', args: [id, lang, g] }),
    };
    const errors: string[] = [];
    const program: Command = buildProgram(handlers)
      .exitOverride()
      .configureOutput({ writeErr: (s) => errors.push(s), writeOut: (s) => errors.push(s) });
    for (const c of program.commands.flatMap((c) => [c, ...c.commands])) c.exitOverride().configureOutput({ writeErr: (s) => errors.push(s), writeOut: (s) => errors.push(s) });
    return { run: () => program.parseAsync(argv, { from: 'user' }), calls, errors };
  }
  const G = (g: Partial<GlobalOptions> = {}): GlobalOptions => ({ url: undefined, token: undefined, json: false, ...g });

  it('upload with defaults', async () => {
    const p = parse(['upload', 'clip.mp4']);
    await p.run();
    expect(p.calls).to.deep.equal([{ cmd: 'upload', args: ['clip.mp4', { concurrency: 4, wait: true, resume: true, timeout: 0 }, G()] }]);
  });
  it('upload with every option, global options before or after the command', async () => {
    const p = parse(['--url', 'http://h:1', 'upload', 'c.mp4', '-c', '8', '--no-wait', '--no-resume', '--timeout', '90', '--json', '--token', 't']);
    await p.run();
    expect(p.calls[0].args).to.deep.equal(['c.mp4', { concurrency: 8, wait: false, resume: false, timeout: 90 }, G({ url: 'http://h:1', token: 't', json: true })]);
  });
  it('captions add needs --lang; list and rm', async () => {
    const a = parse(['captions', 'add', 'v1', 'subs.srt', '--lang', 'pt-BR', '--label', 'Português', '--json']);
    await a.run();
    expect(a.calls).to.deep.equal([{ cmd: 'captionsAdd', args: ['v1', 'subs.srt', { lang: 'pt-BR', label: 'Português' }, G({ json: true })] }]);
    const noLang = parse(['captions', 'add', 'v1', 'subs.srt']);
    expect((await noLang.run().catch((e) => e)).code).to.equal('commander.missingMandatoryOptionValue');
    expect(noLang.calls).to.have.length(0);
    const l = parse(['captions', 'ls', 'v1']);
    await l.run();
    expect(l.calls).to.deep.equal([{ cmd: 'captionsList', args: ['v1', G()] }]);
    const r = parse(['captions', 'rm', 'v1', 'en']);
    await r.run();
    expect(r.calls).to.deep.equal([{ cmd: 'captionsRemove', args: ['v1', 'en', G()] }]);
  });
  it('status with and without an id; url needs one', async () => {
    const a = parse(['status']);
    await a.run();
    expect(a.calls).to.deep.equal([{ cmd: 'status', args: [undefined, G()] }]);
    const b = parse(['status', 'v1', '--json']);
    await b.run();
    expect(b.calls).to.deep.equal([{ cmd: 'status', args: ['v1', G({ json: true })] }]);
    const c = parse(['url']);
    const err = await c.run().catch((e) => e);
    expect(err.code).to.equal('commander.missingArgument');
    expect(c.calls).to.have.length(0);
  });
  it('status paging options; edit, rm (alias delete), retry and redrive', async () => {
    const a = parse(['status', '--status', 'failed', '--limit', '10', '--cursor', 'abc', '--all']);
    await a.run();
    expect(a.calls).to.deep.equal([{ cmd: 'status', args: [undefined, G(), { status: 'failed', limit: 10, cursor: 'abc', all: true }] }]);
    const bad = parse(['status', '--status', 'gone']);
    expect((await bad.run().catch((e) => e)).code).to.equal('commander.invalidArgument');
    expect(bad.errors.join('')).to.match(/must be one of uploading, queued, processing, ready, failed/);
    expect((await parse(['status', '--limit', '101']).run().catch((e) => e)).code).to.equal('commander.invalidArgument');

    const p = parse(['edit', 'v1', '--title', 'Launch day']);
    await p.run();
    expect(p.calls).to.deep.equal([{ cmd: 'edit', args: ['v1', { title: 'Launch day' }, G()] }]);
    for (const verb of ['rm', 'delete']) {
      const r = parse([verb, 'v1', '--json']);
      await r.run();
      expect(r.calls).to.deep.equal([{ cmd: 'rm', args: ['v1', G({ json: true })] }]);
    }
    expect((await parse(['rm']).run().catch((e) => e)).code).to.equal('commander.missingArgument');
    const rt = parse(['retry', 'v1', '--wait', '--timeout', '60']);
    await rt.run();
    expect(rt.calls).to.deep.equal([{ cmd: 'retry', args: ['v1', { wait: true, timeout: 60 }, G()] }]);
    const rd = parse(['redrive', '--max', '5']);
    await rd.run();
    expect(rd.calls).to.deep.equal([{ cmd: 'redrive', args: [{ max: 5 }, G()] }]);
  });

  it('download takes a video id', async () => {
    const a = parse(['download', 'v1', '--json']);
    await a.run();
    expect(a.calls).to.deep.equal([{ cmd: 'download', args: ['v1', G({ json: true })] }]);
    expect((await parse(['download']).run().catch((e) => e)).code).to.equal('commander.missingArgument');
  });
  it('thumbnail takes a video id, a required --time and an optional --width within the bounds', async () => {
    const a = parse(['thumbnail', 'v1', '--time', '12.5', '--width', '320']);
    await a.run();
    expect(a.calls).to.deep.equal([{ cmd: 'thumbnail', args: ['v1', { time: '12.5', width: 320 }, G()] }]);
    const b = parse(['thumbnail', 'v1', '--time', '3']);
    await b.run();
    expect(b.calls[0].args[1]).to.deep.equal({ time: '3' });
    expect((await parse(['thumbnail', 'v1']).run().catch((e) => e)).code).to.equal('commander.missingMandatoryOptionValue');
    const wide = parse(['thumbnail', 'v1', '--time', '1', '--width', '4000']);
    expect((await wide.run().catch((e) => e)).code).to.equal('commander.invalidArgument');
    expect(wide.errors.join('')).to.match(/--width must be a whole number from 32 to 1920/);
  });
  it('rejects a bad concurrency and unknown commands', async () => {
    const a = parse(['upload', 'x', '-c', '0']);
    expect((await a.run().catch((e) => e)).code).to.equal('commander.invalidArgument');
    expect(a.errors.join('')).to.match(/--concurrency must be a whole number/);
    const b = parse(['frobnicate']);
    expect((await b.run().catch((e) => e)).code).to.equal('commander.unknownCommand');
  });
  it('help mentions the env vars and the .data/api-token fallback', async () => {
    const p = parse(['--help']);
    await p.run().catch(() => undefined);
    const help = p.errors.join('');
    expect(help).to.contain('VOD_API_TOKEN').and.contain('VOD_URL').and.contain('.data/api-token');
  });
});

describe('cli/program describeError', () => {
  it('adds hints for 401 and unreachable servers', () => {
    const cfg = { baseUrl: 'http://x', token: 't', tokenSource: 'env' as const };
    expect(describeError(new ApiError(401, 'unauthorized', 'Missing or invalid API token.'), cfg).message).to.contain('VOD_API_TOKEN');
    expect(describeError(new ApiError(0, 'network_error', 'Could not reach x'), cfg).message).to.contain('npm start');
    expect(describeError(new CliError('nope', 'x', 130))).to.deep.equal({ code: 'x', message: 'nope', exitCode: 130 });
  });
});

describe('cli/state UploadStateStore', () => {
  it('stores, reads and deletes pending uploads (missing file = empty)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vod-state-'));
    try {
      const store = new UploadStateStore(path.join(dir, 'sub', 'uploads.json'));
      const k = uploadKey('http://h', '/a/b.mp4', 10, 1234.5);
      expect(k).to.equal('http://h|/a/b.mp4|10|1234');
      expect(store.get(k)).to.equal(undefined);
      store.set(k, { uploadId: 'u', videoId: 'v', startedAt: 't' });
      expect(new UploadStateStore(store.file).get(k)).to.deep.equal({ uploadId: 'u', videoId: 'v', startedAt: 't' });
      store.delete(k);
      expect(store.get(k)).to.equal(undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cli/commands against a fake API', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vod-cli-'));
    file = path.join(dir, 'clip.mp4');
    writeFileSync(file, Buffer.alloc(95, 7));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function ctx(api: FakeApi, extra: Partial<Context> = {}) {
    const out: string[] = [];
    const err = new PassThrough();
    let errText = '';
    err.on('data', (d) => (errText += String(d)));
    const c: Context = {
      config: { baseUrl: 'http://vod.test', token: api.token, tokenSource: 'flag' },
      json: false,
      io: { out: (t) => out.push(t), err },
      statePath: path.join(dir, 'state', 'uploads.json'),
      fetch: api.fetch,
      pollMs: 1,
      ...extra,
    };
    return { c, out, errText: () => errText };
  }
  const noWait = { concurrency: 2, wait: false, resume: true, timeout: 0 };

  it('uploads a file from disk in parts and prints the video id', async () => {
    const api = new FakeApi();
    const { c, out, errText } = ctx(api);
    await uploadCommand(file, noWait, c);
    expect(out).to.deep.equal(['vid1']);
    expect(api.puts()).to.have.length(10);
    expect(errText()).to.contain('Uploading clip.mp4 (95 B)').and.contain('video vid1');
  });

  it('an interrupted upload resumes on rerun, sending only missing parts', async () => {
    const api = new FakeApi();
    api.putDelayMs = 3;
    const abort = new AbortController();
    const first = ctx(api, { signal: abort.signal });
    const orig = api.fetch;
    let puts = 0;
    first.c.fetch = async (u, i) => {
      if (i?.method === 'PUT' && ++puts === 4) abort.abort();
      return orig(u, i);
    };
    const err = await uploadCommand(file, noWait, first.c).catch((e) => e);
    expect(err).to.be.instanceOf(CliError).with.property('exitCode', 130);
    expect(err.message).to.match(/Run the same command again to resume/);
    const stored = api.sessions.get('up1')!.parts.size;
    const before = api.puts().length;

    const second = ctx(api);
    await uploadCommand(file, noWait, second.c);
    expect(second.errText()).to.contain(`Resuming upload up1: ${stored} of 10 parts already stored`);
    expect(api.puts().length - before).to.equal(10 - stored);
    expect(api.sessions.size).to.equal(1);
    // Finished uploads are forgotten: a third run starts a new session.
    await uploadCommand(file, noWait, ctx(api).c);
    expect(api.sessions.size).to.equal(2);
  });

  it('--json upload waits for ready and prints one JSON object', async () => {
    const api = new FakeApi();
    const base = api.fetch;
    let polls = 0;
    const fetch: typeof globalThis.fetch = async (u, i) => {
      const p = new URL(String(u)).pathname;
      if (p === '/api/videos/vid1') {
        polls++;
        const ready = polls >= 3;
        return Response.json({ videoId: 'vid1', status: ready ? 'ready' : 'processing', progress: ready ? 100 : 50, durationSeconds: 10, renditions: [{ name: '360p', width: 640, height: 360, bandwidth: 800000 }], createdAt: 'c', updatedAt: 'u' });
      }
      if (p === '/api/videos/vid1/playback') return Response.json({ url: 'http://vod.test/videos/vid1/master.m3u8?Policy=p&Signature=s&Key-Pair-Id=k', expiresAt: 'e' });
      return base(u, i);
    };
    const { c, out, errText } = ctx(api, { json: true, fetch });
    await uploadCommand(file, { ...noWait, wait: true }, c);
    expect(out).to.have.length(1);
    const res = JSON.parse(out[0]);
    expect(res).to.include({ videoId: 'vid1', uploadId: 'up1', status: 'ready', durationSeconds: 10, expiresAt: 'e' });
    expect(res.playbackUrl).to.contain('Signature=');
    expect(polls).to.equal(3);
    expect(errText()).to.equal('');
  });

  it('thumbnail prints the signed URL the API redirects to (not following it); 409 is "not ready"', async () => {
    const api = new FakeApi();
    const asked: string[] = [];
    const signedUrl = 'http://vod.test/videos/vid1/thumbnails/12500-320.jpg?Policy=p&Signature=s&Key-Pair-Id=k';
    const fetch: typeof globalThis.fetch = async (u, i) => {
      const url = new URL(String(u));
      if (url.pathname === '/api/videos/vid1/thumbnail') {
        asked.push(`${url.search} ${i?.redirect}`);
        return new Response(null, { status: 302, headers: { location: signedUrl } });
      }
      if (url.pathname === '/api/videos/vid2/thumbnail') return Response.json({ error: { code: 'not_ready', message: 'processing' } }, { status: 409 });
      if (url.pathname === '/api/videos/vid2') return Response.json({ videoId: 'vid2', status: 'processing', progress: 40, createdAt: 'c', updatedAt: 'u' });
      return api.fetch(u, i);
    };
    const a = ctx(api, { fetch });
    await thumbnailCommand('vid1', { time: '12.5', width: 320 }, a.c);
    expect(a.out).to.deep.equal([signedUrl]);
    expect(asked).to.deep.equal(['?time=12.5&width=320 manual']);
    const j = ctx(api, { fetch, json: true });
    await thumbnailCommand('vid1', { time: '12.5' }, j.c);
    expect(JSON.parse(j.out[0]!)).to.deep.equal({ videoId: 'vid1', time: 12.5, url: signedUrl });
    const err = await thumbnailCommand('vid2', { time: '1' }, ctx(api, { fetch }).c).catch((e) => e);
    expect(err).to.be.instanceOf(CliError).with.property('code', 'not_ready');
  });

  it('a failed transcode is an error with the reason', async () => {
    const api = new FakeApi();
    const base = api.fetch;
    const fetch: typeof globalThis.fetch = async (u, i) =>
      new URL(String(u)).pathname === '/api/videos/vid1'
        ? Response.json({ videoId: 'vid1', status: 'failed', progress: 0, error: 'no video stream', createdAt: 'c', updatedAt: 'u' })
        : base(u, i);
    const err = await uploadCommand(file, { ...noWait, wait: true }, ctx(api, { fetch }).c).catch((e) => e);
    expect(err).to.be.instanceOf(CliError);
    expect(err.message).to.equal('Transcoding failed: no video stream');
  });

  it('refuses to upload without a token, or a missing file', async () => {
    const api = new FakeApi();
    const { c } = ctx(api);
    c.config = { baseUrl: 'http://vod.test', tokenSource: 'none' };
    expect((await uploadCommand(file, noWait, c).catch((e) => e)).message).to.match(/No API token/);
    expect((await uploadCommand(path.join(dir, 'nope.mp4'), noWait, ctx(api).c).catch((e) => e)).message).to.match(/File not found/);
    expect(api.requests).to.have.length(0);
  });

  it('status and url', async () => {
    const rec = { videoId: 'v1', status: 'processing', progress: 30, createdAt: '2024-01-01T00:00:00Z', updatedAt: 'u' };
    const fetch: typeof globalThis.fetch = async (u) => {
      const p = new URL(String(u)).pathname;
      if (p === '/api/videos') return Response.json({ videos: [rec] });
      if (p === '/api/videos/v1') return Response.json(rec);
      if (p === '/api/videos/v1/playback') return Response.json({ error: { code: 'not_ready', message: 'not ready' } }, { status: 409 });
      return Response.json({ error: { code: 'not_found', message: 'Video nope does not exist' } }, { status: 404 });
    };
    const api = new FakeApi();
    const a = ctx(api, { fetch });
    await statusCommand(undefined, a.c);
    expect(a.out[0]).to.match(/v1\s+processing 30%/);
    const b = ctx(api, { fetch, json: true });
    await statusCommand('v1', b.c);
    expect(JSON.parse(b.out[0])).to.deep.equal(rec);
    const err = await urlCommand('v1', ctx(api, { fetch }).c).catch((e) => e);
    expect(err.message).to.equal('Video v1 is not ready (processing 30%)');
    const e404 = await statusCommand('nope', ctx(api, { fetch }).c).catch((e) => e);
    expect(e404).to.be.instanceOf(ApiError).with.property('status', 404);
  });

  it('status prints names and reasons with control characters escaped (no terminal escape sequences get through)', async () => {
    // A name that would clear the screen, set the window title, and reverse the text after it.
    const evil = 'a\x1b[2J\x1b]0;pwned\x07\u202etxt.exe\r\n\x9b31m.mp4';
    const rec = { videoId: 'v1', status: 'failed', progress: 0, error: 'bad \x1b[31mred', filename: evil, createdAt: '2024-01-01T00:00:00Z', updatedAt: 'u' };
    const fetch: typeof globalThis.fetch = async (u) =>
      new URL(String(u)).pathname === '/api/videos' ? Response.json({ videos: [rec] }) : Response.json(rec);
    const api = new FakeApi();
    const raw = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/;
    for (const id of [undefined, 'v1']) {
      const a = ctx(api, { fetch });
      await statusCommand(id, a.c);
      const text = a.out.join('\n').split('\n').join(''); // the table's own line breaks are fine
      expect(text, String(id)).not.to.match(raw);
      // The table cuts long cells; the detail view shows the whole name.
      expect(text).to.contain(id ? 'a\\x1b[2J\\x1b]0;pwned\\x07\\u202etxt.exe\\r\\n\\x9b31m.mp4' : 'a\\x1b[2J\\x1b]0;pwned');
      expect(text).to.contain('failed: bad \\x1b[31mred');
    }
    expect(escapeControl('plain név 日本.mp4')).to.equal('plain név 日本.mp4');
  });

  /** A server with `n` videos (v1 newest), pages by an index cursor; records every request. */
  function library(n: number) {
    const videos = Array.from({ length: n }, (_, i) => ({
      videoId: `v${i + 1}`,
      status: i % 2 ? 'failed' : 'ready',
      progress: 100,
      title: i === 0 ? 'Launch day' : undefined,
      filename: `f${i + 1}.mp4`,
      createdAt: new Date(Date.UTC(2030, 0, 1) - i * 60_000).toISOString(),
      updatedAt: 'u',
    }));
    const requests: { method: string; path: string; body?: unknown }[] = [];
    const fetch: typeof globalThis.fetch = async (u, init) => {
      const url = new URL(String(u));
      const method = init?.method ?? 'GET';
      requests.push({ method, path: url.pathname + url.search, body: init?.body ? JSON.parse(String(init.body)) : undefined });
      if (url.pathname === '/api/videos' && method === 'GET') {
        const limit = Number(url.searchParams.get('limit') ?? 25);
        const from = Number(url.searchParams.get('cursor') ?? 0);
        const status = url.searchParams.get('status');
        const matching = videos.slice(from, from + limit).filter((v) => !status || v.status === status);
        const next = from + limit < videos.length ? String(from + limit) : null;
        return Response.json({ videos: matching, nextCursor: next });
      }
      const m = url.pathname.match(/^\/api\/videos\/(v\d+)(\/retry)?$/);
      const v = m && videos.find((x) => x.videoId === m[1]);
      if (!v) return Response.json({ error: { code: 'not_found', message: `No video ${m?.[1]}` } }, { status: 404 });
      if (method === 'DELETE') {
        videos.splice(videos.indexOf(v), 1);
        return new Response(null, { status: 204 });
      }
      if (method === 'PATCH') return Response.json({ ...v, ...(JSON.parse(String(init!.body)) as object) });
      if (method === 'POST' && m![2]) {
        if (v.status !== 'failed') return Response.json({ error: { code: 'not_failed', message: `Video ${v.videoId} is ${v.status}` } }, { status: 409 });
        return Response.json({ videoId: v.videoId, status: 'queued', run: 2 }, { status: 202 });
      }
      return Response.json(v);
    };
    return { fetch, requests, videos };
  }

  it('status lists one page with a hint for the next; --all pages through; --status filters', async () => {
    const lib = library(5);
    const one = ctx(new FakeApi(), { fetch: lib.fetch });
    await statusCommand(undefined, one.c, { limit: 2 });
    expect(one.out[0].split('\n')).to.have.length(3);
    expect(one.out[0]).to.match(/v1\s+ready.*Launch day/).and.match(/v2\s+failed.*f2\.mp4/);
    expect(one.errText()).to.contain('More videos: vod status --limit 2 --cursor 2');

    const all = ctx(new FakeApi(), { fetch: lib.fetch, json: true });
    await statusCommand(undefined, all.c, { all: true, status: 'failed', limit: 2 });
    const body = JSON.parse(all.out[0]) as { videos: { videoId: string }[]; nextCursor: null };
    expect(body).to.deep.equal({ videos: [lib.videos[1], lib.videos[3]].map((v) => JSON.parse(JSON.stringify(v))), nextCursor: null });
    expect(lib.requests.filter((r) => r.path.startsWith('/api/videos?')).map((r) => r.path)).to.deep.equal([
      '/api/videos?limit=2',
      '/api/videos?limit=2&status=failed',
      '/api/videos?limit=2&cursor=2&status=failed',
      '/api/videos?limit=2&cursor=4&status=failed',
    ]);
  });

  it('edit, rm, retry (409 unless failed) and redrive', async () => {
    const lib = library(3);
    const api = new FakeApi();
    const e = ctx(api, { fetch: lib.fetch });
    await editCommand('v1', { title: 'New title', description: '' }, e.c);
    expect(lib.requests.at(-1)).to.deep.equal({ method: 'PATCH', path: '/api/videos/v1', body: { title: 'New title', description: '' } });
    expect(e.out[0]).to.match(/^Title:\s+New title$/m);
    expect(((await editCommand('v1', {}, ctx(api, { fetch: lib.fetch }).c).catch((x) => x)) as Error).message).to.match(/Nothing to change/);

    const r = ctx(api, { fetch: lib.fetch });
    await retryCommand('v2', { wait: false, timeout: 0 }, r.c);
    expect(r.out).to.deep.equal(['Retry queued: v2 (run 2)']);
    const notFailed = await retryCommand('v1', { wait: false, timeout: 0 }, ctx(api, { fetch: lib.fetch }).c).catch((x) => x);
    expect(notFailed).to.be.instanceOf(ApiError).with.property('code', 'not_failed');

    const d = ctx(api, { fetch: lib.fetch, json: true });
    await removeCommand('v3', d.c);
    expect(JSON.parse(d.out[0])).to.deep.equal({ videoId: 'v3', deleted: true });
    const again = await removeCommand('v3', ctx(api, { fetch: lib.fetch }).c).catch((x) => x);
    expect(again).to.be.instanceOf(ApiError).with.property('status', 404);
    expect(describeError(again).message).to.equal('Not found: No video v3');

    const moved: unknown[] = [];
    const redriveFetch: typeof globalThis.fetch = async (u, init) => {
      moved.push([new URL(String(u)).pathname, init?.method, JSON.parse(String(init?.body))]);
      return Response.json({ moved: 3 });
    };
    const rd = ctx(api, { fetch: redriveFetch });
    await redriveCommand({ max: 5 }, rd.c);
    expect(moved).to.deep.equal([['/api/jobs/redrive', 'POST', { max: 5 }]]);
    expect(rd.out).to.deep.equal(['Moved 3 jobs back to the jobs queue.']);
  });
});
