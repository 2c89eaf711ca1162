/**
 * The OpenAPI document against real answers: the upload and stream apps run
 * on the S3 + SQS emulator, each request goes to the service the routing
 * table (contract routes.ts) sends it to, and every answer — successes and
 * errors — must be listed in the document served at /api/openapi.json, with
 * its JSON body valid against the listed schema (ajv, JSON Schema 2020-12, as
 * OpenAPI 3.1 uses). Every operation of `API` must be exercised with a
 * successful answer, so a route added later without a case here fails.
 */
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Ajv2020 } from 'ajv/dist/2020.js';
import * as ajvFormats from 'ajv-formats';
import { expect } from 'chai';
import { keys, newId } from '@vod/contract';
import { API, apiPath, serviceFor, type OperationName } from '@vod/contract';
import { openApiPath } from '@vod/contract/openapi';
import { StatusStore } from '@vod/service-kit';
import { createApp as createStreamApp } from '../../containers/stream/src/app.js';
import { createVideoUrlSigner } from '../../containers/stream/src/url-signer.js';
import { createApp as createUploadApp } from '../../containers/upload/src/app.js';
import { startTestAws, type TestAws } from '../support/emulator.js';
import { listen, silentLogger } from '../support/http.js';
import { makeKeyPair } from '../stream/support.js';

const MiB = 1024 * 1024;
const TOKEN = 'openapi-test-token-0123456789abcdef';
// ajv-formats is CommonJS: its plugin is the module's default export.
const addFormats = (ajvFormats as unknown as { default: (ajv: Ajv2020) => Ajv2020 }).default;

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
  components: Record<string, unknown>;
};

describe('OpenAPI document (GET /api/openapi.json) against real answers of every route', function () {
  this.timeout(60_000);
  let aws: TestAws;
  const servers: Record<'upload' | 'stream', { url: string; close(): Promise<void> }> = {} as never;
  let doc: Doc;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const succeeded = new Set<OperationName>();
  const answered: string[] = [];

  before(async () => {
    aws = await startTestAws();
    const logger = await silentLogger();
    servers.upload = await listen(
      createUploadApp({ ...aws, logger, jobsQueueUrl: aws.jobsQueueUrl, apiToken: TOKEN, maxUploadBytes: 20 * MiB, partSize: 5 * MiB }),
    );
    const kp = makeKeyPair();
    const signer = createVideoUrlSigner({ publicBaseUrl: 'http://127.0.0.1:8080', keyPairId: kp.keyPairId, privateKey: kp.privateKey, ttlSeconds: 3600 });
    servers.stream = await listen(
      createStreamApp({
        s3: aws.s3,
        mediaBucket: aws.mediaBucket,
        uploadsBucket: aws.uploadsBucket,
        signer,
        logger,
        apiToken: TOKEN,
        admin: { sqs: aws.sqs, jobsQueueUrl: aws.jobsQueueUrl, jobsDlqUrl: aws.dlqUrl },
      }),
    );
  });
  after(async () => {
    await Promise.all(Object.values(servers).map((s) => s.close()));
    await aws?.stop();
  });

  /**
   * Calls `op` through the service the load balancer would pick, checks the
   * answer against the document, and returns it.
   */
  async function call(
    op: OperationName,
    params: Record<string, string | number> = {},
    init: RequestInit & { auth?: boolean; query?: string } = {},
  ): Promise<{ status: number; body: any; headers: Headers }> {
    const { method } = API[op];
    const path = apiPath(API[op], params) + (init.query ?? '');
    const service = serviceFor(method, path.split('?')[0]!);
    expect(service, `${method} ${path} is routed`).to.be.oneOf(['upload', 'stream']);
    const headers = new Headers(init.headers);
    if (init.auth !== false) headers.set('authorization', `Bearer ${TOKEN}`);
    const res = await fetch(servers[service!].url + path, { ...init, method, headers });
    const text = await res.text();
    answered.push(`${op} ${res.status}`);

    if (!doc) doc = JSON.parse(text) as Doc; // the first call fetches the document itself
    const documented = doc.paths[openApiPath(API[op].path)]?.[method.toLowerCase()];
    expect(documented, `${op} (${method} ${API[op].path}) is in the document`).to.not.equal(undefined);
    const response = documented!.responses[String(res.status)];
    expect(response, `${op} answered ${res.status} (${text.slice(0, 200)}), which the document does not list`).to.not.equal(undefined);
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (!response!.content) {
      expect(text, `${op} ${res.status} has no body in the document`).to.equal('');
    } else if (type === 'application/json') {
      const media = response!.content['application/json'];
      expect(media, `${op} ${res.status} is documented as JSON`).to.not.equal(undefined);
      const validate = ajv.compile({ ...media!.schema, components: doc.components });
      const body = JSON.parse(text);
      expect(validate(body), `${op} ${res.status}: ${ajv.errorsText(validate.errors)}\n${text.slice(0, 500)}`).to.equal(true);
    } else {
      expect(response!.content['*/*'] ?? response!.content[type], `${op} ${res.status} documents ${type}`).to.not.equal(undefined);
    }
    if (res.status < 400) succeeded.add(op);
    return { status: res.status, body: type === 'application/json' ? JSON.parse(text) : text, headers: res.headers };
  }

  const json = (body: unknown): RequestInit => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const form = (field: string, bytes: Uint8Array<ArrayBuffer>, name = 'clip.mp4'): RequestInit => {
    const f = new FormData();
    f.append(field, new Blob([bytes]), name);
    return { body: f };
  };

  it('is an OpenAPI 3.1 document, public, describing every operation', async () => {
    const res = await call('getOpenApi', {}, { auth: false });
    expect(res.status).to.equal(200);
    expect(res.body.openapi).to.match(/^3\.1\./);
    for (const [name, op] of Object.entries(API)) expect(res.body.paths[openApiPath(op.path)], name).to.have.property(op.method.toLowerCase());
    expect(Object.keys(res.body.webhooks)).to.include.members(['video.created', 'video.ready', 'video.deleted']);
  });

  it('chunked uploads: every answer as documented', async () => {
    expect((await call('createUpload', {}, { ...json({ filename: 'a.mp4', size: 10 }), auth: false })).status).to.equal(401);
    expect((await call('createUpload', {}, json({ filename: '', size: -1 }))).status).to.equal(400);
    expect((await call('createUpload', {}, json({ filename: 'big.mp4', size: 21 * MiB }))).status).to.equal(413);
    const created = await call('createUpload', {}, json({ filename: 'a.mp4', size: 6 * MiB }));
    expect(created.status).to.equal(201);
    const { uploadId } = created.body;

    expect((await call('getUpload', { uploadId })).status).to.equal(200);
    expect((await call('getUpload', { uploadId: newId() })).status).to.equal(404);
    expect((await call('getUpload', { uploadId: 'f'.repeat(20) })).status).to.equal(410); // an id from long ago: expired
    expect((await call('putPart', { uploadId, partNumber: 9 }, form('chunk', new Uint8Array(10)))).status).to.equal(400);
    expect((await call('putPart', { uploadId, partNumber: 1 }, form('chunk', new Uint8Array(5 * MiB)))).status).to.equal(200);
    expect((await call('completeUpload', { uploadId })).status).to.equal(400); // part 2 missing
    // Part 2 the @vod/client way: its URL, the bytes straight to storage, the ETag recorded.
    expect((await call('partUploadUrl', { uploadId, partNumber: 9 })).status).to.equal(400);
    const target = await call('partUploadUrl', { uploadId, partNumber: 2 });
    expect(target.status).to.equal(200);
    const stored = await fetch(target.body.url, { method: target.body.method, body: new Uint8Array(1 * MiB) });
    expect(stored.status).to.equal(200);
    expect((await call('recordPart', { uploadId, partNumber: 2 }, json({ etag: 'not an etag' }))).status).to.equal(400);
    expect((await call('recordPart', { uploadId, partNumber: 2 }, json({ etag: stored.headers.get('etag') }))).status).to.equal(200);
    expect((await call('getUpload', { uploadId })).body.parts).to.have.length(2);
    expect((await call('completeUpload', { uploadId })).status).to.equal(202);
    expect((await call('abortUpload', { uploadId })).status).to.equal(409);

    const other = (await call('createUpload', {}, json({ filename: 'b.mp4', size: 100 }))).body.uploadId;
    expect((await call('abortUpload', { uploadId: other })).status).to.equal(204);
  });

  it('videos: every answer as documented', async () => {
    expect((await call('createVideo', {}, form('wrong', new Uint8Array(10)))).status).to.equal(400);
    const queued = await call('createVideo', {}, form('file', new TextEncoder().encode('0123456789abcdef')));
    expect(queued.status).to.equal(202);
    const { videoId } = queued.body;

    expect((await call('listVideos')).body.videos.length).to.be.greaterThan(0);
    expect((await call('getVideo', { videoId })).status).to.equal(200);
    expect((await call('getVideo', { videoId: 'f'.repeat(20) })).status).to.equal(404);
    expect((await call('getPlayback', { videoId })).status).to.equal(409);
    expect((await call('getDownload', { videoId })).status).to.equal(409);
    const thumbnail = (id: string, query: string) => call('getThumbnail', { videoId: id }, { redirect: 'manual', query });
    expect((await thumbnail(videoId, '?time=1')).status).to.equal(409);

    // What the pipeline would write once the video is encoded.
    const records = new StatusStore(aws.s3, aws.mediaBucket);
    await records.transition(videoId, 'processing', { run: 1 });
    await records.transition(videoId, 'ready', {
      progress: 100,
      playable: true,
      durationSeconds: 8.3,
      renditions: [{ name: '360p', width: 640, height: 360, bandwidth: 900_000 }],
      cpuSeconds: 3.2,
      encodeSeconds: 4,
      estimatedCostUsd: 0.00001,
      download: { available: true, rendition: '360p', width: 640, height: 360, bytes: 16, filename: 'clip.mp4' },
    });
    const ready = await call('getVideo', { videoId });
    expect(ready.body).to.include({ status: 'ready' });
    expect(ready.body).to.not.have.property('run'); // the pipeline's own fields stay inside
    expect((await call('getPlayback', { videoId })).status).to.equal(200);
    expect((await call('getDownload', { videoId })).status).to.equal(200);
    expect((await call('getDownload', { videoId: 'f'.repeat(20) })).status).to.equal(404);

    // A real one-second segment of the 360p rendition, for a thumbnail made by ffmpeg.
    const ts = path.join(os.tmpdir(), `openapi-${videoId}.ts`);
    await promisify(execFile)('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-t', '1', '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'mpegts', ts]);
    const put = (Key: string, Body: string | Buffer) => aws.s3.send(new PutObjectCommand({ Bucket: aws.mediaBucket, Key, Body }));
    await put(keys.segment(videoId, '360p', 0), await readFile(ts));
    await rm(ts);
    await put(keys.mediaPlaylist(videoId, '360p'), '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.000,\nseg_00000.ts\n#EXT-X-ENDLIST\n');
    const shot = await thumbnail(videoId, '?time=0.5&width=320');
    expect(shot.status).to.equal(302);
    expect(shot.headers.get('location')).to.match(/^http:\/\/127\.0\.0\.1:8080\/videos\/.+\/thumbnails\/500-320\.jpg\?Policy=/);
    expect((await thumbnail(videoId, '?time=9&width=320')).status).to.equal(400); // past the 8.3 s
    expect((await thumbnail('f'.repeat(20), '?time=1')).status).to.equal(404);

    expect((await call('getSource', { videoId })).status).to.equal(200);
    expect((await call('getSource', { videoId }, { headers: { range: 'bytes=0-3' } })).status).to.equal(206);
    expect((await call('getSource', { videoId }, { headers: { range: 'bytes=1000-' } })).status).to.equal(416);
    expect((await call('getSource', { videoId: 'e'.repeat(20) })).status).to.equal(404);
  });

  it('changing videos: every answer as documented', async () => {
    const queued = await call('createVideo', {}, form('file', new TextEncoder().encode('not really a video')));
    const { videoId } = queued.body;
    const page = await call('listVideos', {}, {});
    expect(page.body).to.have.property('nextCursor');
    const first = await fetch(`${servers.stream.url}/api/videos?limit=1`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(first.status).to.equal(200);
    expect((await fetch(`${servers.stream.url}/api/videos?limit=0`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).to.equal(400);

    expect((await call('updateVideo', { videoId }, json({ title: 'Launch day' }))).body).to.include({ title: 'Launch day' });
    expect((await call('updateVideo', { videoId }, json({ colour: 'red' }))).status).to.equal(400);
    expect((await call('updateVideo', { videoId: 'f'.repeat(20) }, json({ title: 'x' }))).status).to.equal(404);

    expect((await call('retryVideo', { videoId })).status).to.equal(409); // queued, not failed
    const records = new StatusStore(aws.s3, aws.mediaBucket);
    await records.transition(videoId, 'processing', { run: 1 });
    await records.transition(videoId, 'failed', { error: 'Not a video' });
    const retried = await call('retryVideo', { videoId });
    expect(retried.status).to.equal(202);
    expect(retried.body).to.include({ videoId, status: 'queued', run: 2 });

    expect((await call('redriveJobs', {}, json({ max: 5 }))).body).to.deep.equal({ moved: 0 });
    expect((await call('redriveJobs', {}, json({ max: 'all' }))).status).to.equal(400);

    expect((await call('deleteVideo', { videoId })).status).to.equal(204);
    expect((await call('deleteVideo', { videoId })).status).to.equal(404);
  });

  it('captions: every answer as documented', async () => {
    const captions = (body: string, fields: Record<string, string>): RequestInit => {
      const f = new FormData();
      for (const [k, v] of Object.entries(fields)) f.set(k, v);
      f.set('file', new Blob([body]), 'subs.srt');
      return { body: f };
    };
    const SRT = '1\n00:00:01,000 --> 00:00:02,000\nHello\n';
    const { videoId } = (await call('createVideo', {}, form('file', new TextEncoder().encode('a video')))).body;
    expect((await call('addCaptions', { videoId }, captions(SRT, { language: 'en' }))).status).to.equal(409); // queued
    expect((await call('addCaptions', { videoId: 'f'.repeat(20) }, captions(SRT, { language: 'en' }))).status).to.equal(404);
    // What the pipeline publishes once the video is encoded.
    const put = (Key: string, Body: string) => aws.s3.send(new PutObjectCommand({ Bucket: aws.mediaBucket, Key, Body }));
    await put(keys.master(videoId), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000,RESOLUTION=640x360\n360p/index.m3u8\n');
    await put(keys.mediaPlaylist(videoId, '360p'), '#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:6,\nseg_00000.ts\n#EXT-X-ENDLIST\n');
    const records = new StatusStore(aws.s3, aws.mediaBucket);
    await records.transition(videoId, 'processing', { run: 1 });
    await records.transition(videoId, 'ready', { progress: 100, playable: true, durationSeconds: 6 });

    const bad = await call('addCaptions', { videoId }, captions('1\n00:00:02,000 --> 00:00:01,000\nBackwards\n', { language: 'en' }));
    expect(bad.status).to.equal(400);
    expect(bad.body.error).to.deep.include({ code: 'invalid_captions' });
    expect(bad.body.error.message).to.match(/^line 2: /);
    expect((await call('addCaptions', { videoId }, captions(SRT, { language: '??' }))).body.error.code).to.equal('bad_language');
    const added = await call('addCaptions', { videoId }, captions(SRT, { language: 'en', label: 'English' }));
    expect(added.status).to.equal(201);
    expect(added.body).to.include({ language: 'en', label: 'English', cues: 1 });
    expect((await call('listCaptions', { videoId })).body.captions).to.have.length(1);
    expect((await call('listCaptions', { videoId: 'f'.repeat(20) })).status).to.equal(404);
    expect((await call('deleteCaptions', { videoId, language: 'en' })).status).to.equal(204);
    expect((await call('deleteCaptions', { videoId, language: 'en' })).status).to.equal(404);
    expect((await call('deleteCaptions', { videoId, language: 'not a tag' })).status).to.equal(400);
  });

  it('exercised every operation with a successful answer', () => {
    const missing = (Object.keys(API) as OperationName[]).filter((op) => !succeeded.has(op));
    expect(missing, `operations without a successful call in this test (answers: ${answered.join(', ')})`).to.deep.equal([]);
  });
});
