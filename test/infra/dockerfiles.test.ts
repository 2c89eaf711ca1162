/**
 * The images the stack builds (awsx.ecr.Image, context = repo root) must
 * exist, must not run as root, and must not carry `.env` files or keys.
 * Reads containers/{upload,transcode,stream}/Dockerfile and .dockerignore.
 */
import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { copySources, parseDockerfile } from '../support/dockerfile.js';

const ROOT = new URL('../../', import.meta.url);
const SERVICES = { upload: 8081, transcode: 8083, stream: 8082 } as const;

const SECRET_FILE = /(^|\/)(\.env(\..*)?|\.npmrc|\.aws|\.ssh|id_rsa|id_ed25519|credentials)$|\.(pem|key|p12|pfx)$/i;
const WHOLE_CONTEXT = /^(\.|\.\/|\*|\.\/\*)$/;
const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PRIVATE_KEY|ACCESS_KEY)/i;

/** Problems with one Dockerfile (empty = fine). */
export function dockerfileProblems(text: string, dockerignore: string): string[] {
  const problems: string[] = [];
  const ins = parseDockerfile(text);
  const froms = ins.map((x, i) => [x, i] as const).filter(([x]) => x.keyword === 'FROM');
  if (froms.length === 0) return ['no FROM instruction'];
  const [lastFrom, lastFromIndex] = froms[froms.length - 1]!;
  const finalStage = ins.slice(lastFromIndex + 1);
  const users = finalStage.filter((x) => x.keyword === 'USER');
  const baseIsNonRoot = /:nonroot\b|distroless.*nonroot/i.test(lastFrom.args);
  if (users.length === 0 && !baseIsNonRoot) {
    problems.push('the final stage has no USER: the container would run as root');
  }
  const lastUser = users[users.length - 1];
  if (lastUser) {
    const user = lastUser.args.split(':')[0]!.trim();
    if (user === 'root' || user === '0') problems.push(`line ${lastUser.line}: USER ${lastUser.args} runs as root`);
  }
  let copiesWholeContext = false;
  for (const x of ins.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')) {
    const { from, sources } = copySources(x.args);
    for (const src of sources) {
      if (SECRET_FILE.test(src)) problems.push(`line ${x.line}: ${x.keyword} ${src} copies a secret file`);
      if (!from && WHOLE_CONTEXT.test(src)) copiesWholeContext = true;
    }
  }
  for (const x of ins.filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG')) {
    const names = x.args.split(/\s+/).map((kv) => kv.split('=')[0]!);
    const withValue = x.keyword === 'ENV' || x.args.includes('=');
    if (withValue && names.some((n) => SECRET_NAME.test(n))) problems.push(`line ${x.line}: ${x.keyword} ${x.args} bakes a secret into the image`);
  }
  if (copiesWholeContext) {
    const ignored = dockerignore.split(/\r?\n/).map((l) => l.trim());
    for (const needed of [/\.env$/, /\.pem$/]) {
      if (!ignored.some((l) => needed.test(l))) problems.push(`copies the whole build context but .dockerignore does not exclude ${needed.source}`);
    }
  }
  return problems;
}

describe('container Dockerfiles', () => {
  const dockerignorePath = new URL('.dockerignore', ROOT);
  const dockerignore = existsSync(dockerignorePath) ? readFileSync(dockerignorePath, 'utf8') : '';

  for (const [service, port] of Object.entries(SERVICES)) {
    describe(`containers/${service}/Dockerfile`, () => {
      const path = new URL(`containers/${service}/Dockerfile`, ROOT);

      it('exists (the stack builds it with awsx.ecr.Image)', () => {
        expect(existsSync(path), `${path.pathname} is missing`).to.equal(true);
      });

      it('runs as a non-root user and copies no .env files or keys', function () {
        if (!existsSync(path)) this.skip();
        expect(dockerfileProblems(readFileSync(path, 'utf8'), dockerignore)).to.deep.equal([]);
      });

      it(`exposes the port the task definition uses (${port})`, function () {
        if (!existsSync(path)) this.skip();
        const exposed = parseDockerfile(readFileSync(path, 'utf8'))
          .filter((x) => x.keyword === 'EXPOSE')
          .flatMap((x) => x.args.split(/\s+/).map((p) => Number.parseInt(p, 10)));
        expect(exposed).to.include(port);
      });
    });
  }

  /** Debian packages the final stage of `service`'s image installs with apt-get. */
  const aptInstalled = (service: string) => {
    const ins = parseDockerfile(readFileSync(new URL(`containers/${service}/Dockerfile`, ROOT), 'utf8'));
    const lastFrom = ins.map((x) => x.keyword).lastIndexOf('FROM');
    return ins
      .slice(lastFrom + 1)
      .filter((x) => x.keyword === 'RUN')
      .flatMap((x) => x.args.split('&&').map((c) => c.trim().split(/\s+/)))
      .filter((words) => words[0] === 'apt-get' && words.includes('install'))
      .flatMap((words) => words.filter((w) => !w.startsWith('-') && w !== 'apt-get' && w !== 'install'));
  };

  it('the transcode image installs the ffmpeg/ffprobe the worker runs and the CA certificates it verifies S3 TLS with', () => {
    expect(aptInstalled('transcode')).to.include.members(['ffmpeg', 'ca-certificates']);
  });

  it('the stream image installs the ffmpeg its on-demand thumbnails run (containers/stream/src/thumbnails.ts)', () => {
    expect(aptInstalled('stream')).to.include('ffmpeg');
  });

  it('.dockerignore keeps local secrets out of the build context', () => {
    expect(dockerignore, '.dockerignore is missing').to.not.equal('');
    const lines = dockerignore.split(/\r?\n/).map((l) => l.trim());
    expect(lines.some((l) => /\.env$/.test(l)), '.env excluded').to.equal(true);
    expect(lines.some((l) => /\.pem$/.test(l)), '*.pem excluded').to.equal(true);
  });

  describe('the checker itself', () => {
    const ok = 'FROM node:22-slim\nWORKDIR /app\nCOPY package.json ./\nUSER node\nCMD ["node", "x.js"]\n';

    it('accepts a non-root image that copies only named files', () => {
      expect(dockerfileProblems(ok, '')).to.deep.equal([]);
    });

    it('flags root, missing USER, secret files, baked secrets and an unguarded whole-context COPY', () => {
      expect(dockerfileProblems('FROM node:22\nCMD ["node"]\n', '')).to.have.length(1);
      expect(dockerfileProblems(`${ok}USER root\n`, '')[0]).to.match(/runs as root/);
      expect(dockerfileProblems(`${ok}USER 0:0\n`, '')[0]).to.match(/runs as root/);
      expect(dockerfileProblems(ok.replace('package.json', '.env'), '')[0]).to.match(/secret file/);
      expect(dockerfileProblems(ok.replace('package.json', 'keys/cloudfront.pem'), '')[0]).to.match(/secret file/);
      expect(dockerfileProblems(ok.replace('COPY package.json', 'COPY --chown=node:node config/.env.production'), '')[0]).to.match(/secret file/);
      expect(dockerfileProblems(`${ok}ENV VOD_API_TOKEN=abc\n`, '')[0]).to.match(/bakes a secret/);
      expect(dockerfileProblems(ok.replace('package.json', '.'), '')).to.have.length(2);
      expect(dockerfileProblems(ok.replace('package.json', '.'), '**/.env\n**/*.pem\n')).to.deep.equal([]);
    });

    it('judges only the final stage for USER, and knows distroless :nonroot images', () => {
      const multi = 'FROM node:22 AS build\nUSER node\nRUN npm ci\nFROM node:22-slim\nCOPY --from=build /app /app\nCMD ["node"]\n';
      expect(dockerfileProblems(multi, '')[0]).to.match(/no USER/);
      expect(dockerfileProblems('FROM gcr.io/distroless/nodejs22-debian12:nonroot\nCMD ["x.js"]\n', '')).to.deep.equal([]);
    });

    it('joins continuation lines', () => {
      const ins = parseDockerfile('RUN a \\\n  && b\n# c\nUSER node\n');
      expect(ins.map((i) => i.keyword)).to.deep.equal(['RUN', 'USER']);
      expect(ins[0]!.args).to.equal('a  && b');
    });
  });
});
