/**
 * Secrets never reach a log line: the access logs of a service (baseApp) and
 * of the local edge, and any line of a createLogger logger, redact
 * Authorization, Cookie, x-origin-verify and the signing parameters of signed
 * URLs, while keeping the path.
 */
import { EventEmitter, once } from 'node:events';
import { expect } from 'chai';
import { AppError, baseApp, createLogger, errorMiddleware, requireOriginSecret, scrubUrl } from '@vod/service-kit';
import { createEdge } from '../../local/edge.js';
import { startTestAws, type TestAws } from '../support/emulator.js';
import { listen } from '../support/http.js';
import { makeKeyPair } from '../stream/support.js';

const TOKEN = 'tok_live_0123456789abcdefSECRET';
const ORIGIN_SECRET = 'origin-secret-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const COOKIE = 'session=cookie-value-SECRET';
const POLICY = 'eyJTdGF0ZW1lbnQiOlt7IlJlc291cmNlIjoiaHR0cDovL3gvKiJ9XX0_';
const SIGNATURE = 'sig-VALUE-abcdefghijklmnopqrstuvwxyz~0123456789';
const KEY_PAIR = 'KSECRETKEYPAIR1';
const SIGNED_QUERY = `Policy=${POLICY}&Signature=${SIGNATURE}&Key-Pair-Id=${KEY_PAIR}&Expires=1893456000`;
const SECRETS = [TOKEN, ORIGIN_SECRET, 'cookie-value-SECRET', POLICY, SIGNATURE, KEY_PAIR, '1893456000'];

/** A pino destination that keeps every line and announces it. */
class Capture extends EventEmitter {
  lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
    this.emit('line', line);
  }
  /** Resolves with the first line (already written or future) that satisfies `test`. */
  async waitFor(test: (line: Record<string, any>) => boolean): Promise<Record<string, any>> {
    for (;;) {
      const hit = this.lines.map((l) => JSON.parse(l)).find(test);
      if (hit) return hit;
      await once(this, 'line');
    }
  }
}

const leaks = (text: string) => SECRETS.filter((s) => text.includes(s));

describe('log redaction', function () {
  this.timeout(30_000);

  it('scrubUrl hides only the signing parameters, keeping path and other parameters', () => {
    expect(scrubUrl(`/videos/abc/master.m3u8?a=1&${SIGNED_QUERY}&b=2`)).to.equal(
      '/videos/abc/master.m3u8?a=1&Policy=[redacted]&Signature=[redacted]&Key-Pair-Id=[redacted]&Expires=[redacted]&b=2',
    );
    expect(scrubUrl('https://bucket.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F1&x-amz-signature=abc&partNumber=3')).to.equal(
      'https://bucket.s3.amazonaws.com/k?X-Amz-Credential=[redacted]&x-amz-signature=[redacted]&partNumber=3',
    );
    expect(scrubUrl('/api/videos')).to.equal('/api/videos');
  });

  it("a service's access log (success and error lines) carries no credentials", async () => {
    const capture = new Capture();
    const logger = createLogger('svc', 'info', capture);
    const app = baseApp(logger);
    app.use(requireOriginSecret(ORIGIN_SECRET));
    app.get('/ok/*rest', (_req, res) => void res.send('ok'));
    app.get('/boom', () => {
      throw new AppError('internal', 'boom');
    });
    app.use(errorMiddleware(logger));
    const server = await listen(app);
    try {
      const headers = { authorization: `Bearer ${TOKEN}`, 'x-origin-verify': ORIGIN_SECRET, cookie: COOKIE };
      expect((await fetch(`${server.url}/ok/videos/master.m3u8?${SIGNED_QUERY}`, { headers })).status).to.equal(200);
      expect((await fetch(`${server.url}/boom?${SIGNED_QUERY}`, { headers })).status).to.equal(500);
      const ok = await capture.waitFor((l) => l.req?.url?.startsWith('/ok/'));
      await capture.waitFor((l) => l.req?.url?.startsWith('/boom') && l.res?.statusCode === 500);
      // Still useful: the path and the other fields are there.
      expect(ok.req.url).to.match(/^\/ok\/videos\/master\.m3u8\?Policy=\[redacted\]&Signature=\[redacted\]/);
      expect(ok.req.headers.authorization).to.equal('[redacted]');
      expect(ok.req.headers['x-origin-verify']).to.equal('[redacted]');
      expect(ok.req.headers.cookie).to.equal('[redacted]');
      expect(ok.res.statusCode).to.equal(200);
      expect(leaks(capture.lines.join(''))).to.deep.equal([]);
    } finally {
      await server.close();
    }
  });

  describe('the local edge', () => {
    let aws: TestAws;
    before(async () => {
      aws = await startTestAws();
    });
    after(async () => {
      await aws?.stop();
    });

    it('logs neither the viewer credentials nor the origin secret it adds, at the edge or at the service', async () => {
      const serviceLog = new Capture();
      const service = baseApp(createLogger('stream', 'info', serviceLog));
      service.use(requireOriginSecret(ORIGIN_SECRET));
      service.get('/*rest', (_req, res) => void res.json({ ok: true }));
      const origin = await listen(service);
      const edgeLog = new Capture();
      const kp = makeKeyPair(KEY_PAIR);
      const edge = createEdge({
        uploadOrigin: origin.url,
        streamOrigin: origin.url,
        s3: aws.s3,
        mediaBucket: aws.mediaBucket,
        trustedKeys: { [kp.keyPairId]: kp.publicKey },
        logger: createLogger('edge', 'info', edgeLog),
        originVerifySecret: ORIGIN_SECRET,
      });
      const edgeServer = await listen(edge);
      try {
        const headers = { authorization: `Bearer ${TOKEN}`, cookie: COOKIE };
        expect((await fetch(`${edgeServer.url}/api/videos?${SIGNED_QUERY}`, { headers })).status).to.equal(200);
        // A signed playlist request that the edge refuses (the signature is not valid).
        expect((await fetch(`${edgeServer.url}/videos/${'a'.repeat(20)}/master.m3u8?${SIGNED_QUERY}`, { headers })).status).to.equal(403);
        await serviceLog.waitFor((l) => l.req?.url?.startsWith('/api/videos'));
        await edgeLog.waitFor((l) => l.req?.url?.startsWith('/api/videos'));
        await edgeLog.waitFor((l) => l.req?.url?.startsWith('/videos/') && l.res?.statusCode === 403);
        expect(leaks(serviceLog.lines.join('')), 'service log').to.deep.equal([]);
        expect(leaks(edgeLog.lines.join('')), 'edge log').to.deep.equal([]);
      } finally {
        await edgeServer.close();
        await origin.close();
      }
    });
  });

  it('any line of a createLogger logger redacts request-shaped objects', () => {
    const capture = new Capture();
    const logger = createLogger('worker', 'info', capture);
    logger.info({ url: `https://cdn/videos/x/master.m3u8?${SIGNED_QUERY}`, headers: { authorization: `Bearer ${TOKEN}` } }, 'fetched');
    expect(leaks(capture.lines.join(''))).to.deep.equal([]);
    expect(JSON.parse(capture.lines[0]!).url).to.equal('https://cdn/videos/x/master.m3u8?Policy=[redacted]&Signature=[redacted]&Key-Pair-Id=[redacted]&Expires=[redacted]');
  });
});
