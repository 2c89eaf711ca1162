/**
 * Shared secrets — the API token (`VOD_API_TOKEN`) and the origin secret
 * CloudFront sends (`ORIGIN_VERIFY_SECRET`) — follow one rule everywhere
 * (contract secrets.ts: 32–128 characters of A-Z a-z 0-9 _ -) and are
 * compared in constant time (service-kit auth.ts: SHA-256 digests through
 * `timingSafeEqual`):
 *
 * - `secretEquals` / `secretMatcher` answer true or false for any input; raw
 *   `timingSafeEqual` throws when the lengths differ, which would turn a wrong
 *   token into a 500 (and tell its length);
 * - every place that reads either secret from config refuses a value that
 *   breaks the rule, naming the variable and the rule: the upload and stream
 *   services and the local edge (their entry files, run with a bad value) and
 *   infra (`assertSharedSecret`, applied to vod:apiToken and
 *   vod:originVerifySecret);
 * - no service code compares a secret with `===`/`!==` (a static scan).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Request, Response } from 'express';
import ts from 'typescript';
import { z } from 'zod';
import { assertSharedSecret } from '../../infra/secrets.js';
// By path, not by package name: `@vod/*` resolves through node_modules, which in a worktree may link to another
// checkout's packages; these are the sources beside this test.
import { ORIGIN_VERIFY_HEADER, SHARED_SECRET_PATTERN, SHARED_SECRET_RULE, isSharedSecret } from '../../packages/contract/src/index.js';
import {
  AppError,
  ConfigError,
  env,
  loadConfig,
  requireBearerToken,
  requireOriginSecret,
  secretEquals,
  secretMatcher,
} from '../../packages/service-kit/src/index.js';

const ROOT = path.resolve(new URL('../../', import.meta.url).pathname);
const SECRET = 'origin-secret_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Values that break the rule, the same for every service: one short, one long, one with an ALB wildcard. */
const BAD_SECRETS: Record<string, string> = {
  '31 characters': 'a'.repeat(31),
  '129 characters': 'a'.repeat(129),
  "a '*' (an ALB header-condition wildcard)": `${'a'.repeat(39)}*`,
};

/** The line loadConfig writes for a variable that breaks the rule (service-kit config.ts). */
const apiTokenLine = `VOD_API_TOKEN: set VOD_API_TOKEN to the API token: ${SHARED_SECRET_RULE}`;
const originSecretLine = `ORIGIN_VERIFY_SECRET: set ORIGIN_VERIFY_SECRET to the secret CloudFront sends in x-origin-verify: ${SHARED_SECRET_RULE}`;

describe('shared secrets: one rule everywhere, compared in constant time', () => {
  describe('secretEquals and secretMatcher', () => {
    const matches = secretMatcher(SECRET);

    it('are true for the same string', () => {
      expect(secretEquals(SECRET, SECRET)).to.equal(true);
      // A copy, not the same string object: equality is by content.
      expect(secretEquals([...SECRET].join(''), SECRET)).to.equal(true);
      expect(matches([...SECRET].join(''))).to.equal(true);
    });

    it('are false for a different string of the same length', () => {
      const lastCharChanged = `${SECRET.slice(0, -1)}X`;
      expect(lastCharChanged).to.have.length(SECRET.length);
      expect(secretEquals(lastCharChanged, SECRET)).to.equal(false);
      expect(matches(lastCharChanged)).to.equal(false);
      expect(secretEquals(SECRET.toLowerCase(), SECRET)).to.equal(false);
      // A character whose low byte is the right one ('Ł' is U+0141, 'A' is 0x41): compared whole, not as Latin-1.
      const lowByteTwin = `${SECRET.slice(0, -1)}${String.fromCharCode(SECRET.charCodeAt(SECRET.length - 1) + 0x100)}`;
      expect(matches(lowByteTwin)).to.equal(false);
      expect(secretEquals(lowByteTwin, SECRET)).to.equal(false);
    });

    it('are false, without throwing, for a string of another length', () => {
      // Raw timingSafeEqual throws RangeError on a length mismatch: a wrong token would be a 500, not a 401/403.
      for (const other of [SECRET.slice(0, -1), `${SECRET}a`, '', 'x', SECRET.repeat(3)]) {
        expect(secretEquals(other, SECRET), `secretEquals(${JSON.stringify(other)})`).to.equal(false);
        expect(matches(other), `secretMatcher(…)(${JSON.stringify(other)})`).to.equal(false);
      }
      // Either side may be the shorter one.
      expect(secretEquals(SECRET, SECRET.slice(0, 10))).to.equal(false);
    });

    it('are false for undefined (no header, no token sent)', () => {
      expect(secretEquals(undefined, SECRET)).to.equal(false);
      expect(matches(undefined)).to.equal(false);
    });

    it('a wrong header or token of another length is refused as 403/401, not an exception (the middleware)', () => {
      /** What `handler` passes to next() for a request with `headers`. */
      const outcome = (handler: ReturnType<typeof requireOriginSecret>, headers: Record<string, string>) => {
        let passed: unknown = 'next() not called';
        handler({ path: '/api/videos', headers } as unknown as Request, {} as Response, (err?: unknown) => {
          passed = err;
        });
        return passed;
      };
      const origin = requireOriginSecret(SECRET);
      expect(outcome(origin, { [ORIGIN_VERIFY_HEADER]: SECRET })).to.equal(undefined);
      expect(outcome(origin, { [ORIGIN_VERIFY_HEADER]: 'short' })).to.be.instanceOf(AppError).and.include({ code: 'forbidden' });
      const bearer = requireBearerToken(SECRET);
      expect(outcome(bearer, { authorization: `Bearer ${SECRET}` })).to.equal(undefined);
      expect(outcome(bearer, { authorization: 'Bearer short' })).to.be.instanceOf(AppError).and.include({ code: 'unauthorized' });
    });
  });

  describe('the rule', () => {
    it('takes 32–128 characters of A-Z a-z 0-9 _ -, and nothing else', () => {
      for (const good of ['a'.repeat(32), 'a'.repeat(128), 'AZaz09_-'.repeat(4), SECRET]) expect(isSharedSecret(good), good).to.equal(true);
      for (const [what, bad] of Object.entries(BAD_SECRETS)) expect(isSharedSecret(bad), what).to.equal(false);
      // `?` is the other ALB wildcard; a space or a newline would not survive as a header value.
      for (const bad of [`${'a'.repeat(39)}?`, `${'a'.repeat(39)} `, `${'a'.repeat(39)}\n`, undefined, 42]) expect(isSharedSecret(bad)).to.equal(false);
      expect(SHARED_SECRET_RULE).to.equal('32–128 characters of A-Z, a-z, 0-9, _ or -');
      expect(SHARED_SECRET_PATTERN.source).to.equal('^[A-Za-z0-9_-]{32,128}$');
    });
  });

  describe('everything that reads a secret from config refuses one that breaks the rule', function () {
    // Each entry file is run with tsx (a few seconds each on a busy machine); the bound below stops any that does not exit.
    this.timeout(60_000);
    const EXIT_BOUND_MS = 45_000;
    const running = new Set<ChildProcess>();

    after(() => {
      // Only a test that timed out leaves one behind.
      for (const child of running) child.kill('SIGKILL');
    });

    /** Runs `entry` with only PATH and `vars` set; resolves when it exits (or is killed after EXIT_BOUND_MS). */
    function start(entry: string, vars: Record<string, string>): Promise<{ code: number | null; stderr: string; killed: boolean }> {
      const child = spawn(process.execPath, ['--import', 'tsx', entry], {
        cwd: ROOT,
        // Minimal: nothing from this process's environment (AWS settings, NODE_OPTIONS…) reaches the service.
        env: { PATH: process.env.PATH ?? '', ...vars },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      running.add(child);
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      let killed = false;
      const bound = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, EXIT_BOUND_MS);
      return new Promise((resolve, reject) => {
        child.on('error', reject);
        // 'close', not 'exit': all of stderr has been read by then.
        child.on('close', (code) => {
          clearTimeout(bound);
          running.delete(child);
          resolve({ code, stderr, killed });
        });
      });
    }

    describe('service-kit config fragments (what every entry spreads into its schema)', () => {
      const schema = z.object({ ...env.apiToken, ...env.originSecret });

      for (const [what, bad] of Object.entries(BAD_SECRETS)) {
        it(`refuses ${what}, naming the variable and the rule`, () => {
          expect(() => loadConfig(schema, { VOD_API_TOKEN: bad, ORIGIN_VERIFY_SECRET: SECRET }))
            .to.throw(ConfigError)
            .with.property('message')
            .that.contains(apiTokenLine)
            .and.not.contains('ORIGIN_VERIFY_SECRET');
          expect(() => loadConfig(schema, { VOD_API_TOKEN: SECRET, ORIGIN_VERIFY_SECRET: bad }))
            .to.throw(ConfigError)
            .with.property('message')
            .that.contains(originSecretLine)
            .and.not.contains('VOD_API_TOKEN');
        });
      }

      it('accepts values that keep the rule; the origin secret may be unset, the token may not', () => {
        expect(loadConfig(schema, { VOD_API_TOKEN: 'a'.repeat(32), ORIGIN_VERIFY_SECRET: 'b'.repeat(128) })).to.deep.equal({
          VOD_API_TOKEN: 'a'.repeat(32),
          ORIGIN_VERIFY_SECRET: 'b'.repeat(128),
        });
        expect(loadConfig(schema, { VOD_API_TOKEN: SECRET })).to.deep.equal({ VOD_API_TOKEN: SECRET });
        expect(() => loadConfig(schema, {})).to.throw(ConfigError, apiTokenLine);
      });
    });

    // The entry files validate their environment at the top and do not export their schemas: run them.
    // Every other variable is missing too, so none could start even without the secret check; what is
    // asserted is the line about each secret, with the variable and the rule.
    const entries = [
      { name: 'upload', file: 'containers/upload/src/server.ts', vars: ['VOD_API_TOKEN', 'ORIGIN_VERIFY_SECRET'] },
      { name: 'stream', file: 'containers/stream/src/server.ts', vars: ['VOD_API_TOKEN', 'ORIGIN_VERIFY_SECRET'] },
      { name: 'edge', file: 'local/edge-server.ts', vars: ['ORIGIN_VERIFY_SECRET'] },
    ];
    for (const { name, file, vars } of entries) {
      describe(`${name} (${file})`, () => {
        for (const [what, bad] of Object.entries(BAD_SECRETS)) {
          it(`exits 1 on ${vars.join(' and ')} of ${what}, naming ${vars.length > 1 ? 'each' : 'it'} and the rule`, async () => {
            const run = await start(file, Object.fromEntries(vars.map((v) => [v, bad])));
            expect(run.killed, `${name} was still running after ${EXIT_BOUND_MS / 1000} s`).to.equal(false);
            expect(run.code, run.stderr).to.equal(1);
            expect(run.stderr).to.contain(`${name}: Invalid configuration:`);
            if (vars.includes('VOD_API_TOKEN')) expect(run.stderr).to.contain(`  - ${apiTokenLine}\n`);
            if (vars.includes('ORIGIN_VERIFY_SECRET')) expect(run.stderr).to.contain(`  - ${originSecretLine}\n`);
          });
        }
      });
    }

    describe('infra (vod:apiToken, vod:originVerifySecret)', () => {
      for (const [what, bad] of Object.entries(BAD_SECRETS)) {
        it(`refuses ${what}, naming the config key and the rule`, () => {
          for (const key of ['vod:apiToken', 'vod:originVerifySecret']) {
            expect(() => assertSharedSecret(key, bad)).to.throw(Error, `${key} must be ${SHARED_SECRET_RULE}.`);
          }
        });
      }

      it('keeps a value that follows the rule as it is', () => {
        expect(assertSharedSecret('vod:apiToken', SECRET)).to.equal(SECRET);
      });
    });
  });

  describe('every secret comparison in service code goes through secretEquals/secretMatcher', () => {
    it('the scan finds plain comparisons of secrets, and only those (its own check)', () => {
      const found = plainSecretComparisons(
        'fixture.ts',
        `
        export function requireOriginSecret(secret?: string) {
          return (req: any) => {
            if (!secret || req.path === HEALTH_PATH) return true;     // fine: not the secret
            if (typeof secret === 'string' && secret !== undefined && secret !== '') {}  // fine: type and presence checks
            const sent = req.headers['x-origin-verify'];
            return sent === secret;                                   // plain comparison of the secret
          };
        }
        export function secretEquals(actual: string | undefined, expected: string) {
          return actual !== undefined && actual.length === expected.length && actual === expected;  // two, within a secret function
        }
        const check = (token: string, given: string) => given == token || deps.apiToken !== given || cfg['originSecret'] === x;
        const unrelated = (a: string, b: string) => a === b && tokens.length === 0;
        `,
      );
      expect(found.map((f) => f.text)).to.deep.equal([
        'sent === secret',
        'actual.length === expected.length',
        'actual === expected',
        'given == token',
        'deps.apiToken !== given',
        "cfg['originSecret'] === x",
      ]);
    });

    it('no source under containers/, packages/ or local/ compares a token or secret with ===, !==, == or !=', () => {
      const files = ['containers', 'packages', 'local'].flatMap((dir) => tsFiles(path.join(ROOT, dir)));
      // The scan reads the files that handle the secrets (an empty or wrong file list would pass vacuously).
      expect(files.map((f) => path.relative(ROOT, f))).to.include.members([
        'packages/service-kit/src/auth.ts',
        'packages/service-kit/src/http.ts',
        'containers/stream/src/app.ts',
        'containers/upload/src/app.ts',
        'local/edge.ts',
      ]);
      const found = files.flatMap((f) => plainSecretComparisons(f, readFileSync(f, 'utf8')));
      const report = found.map((f) => `${path.relative(ROOT, f.file)}:${f.line}: ${f.text} (use secretEquals or secretMatcher)`);
      expect(report, report.join('\n')).to.deep.equal([]);
    });
  });
});

/** TypeScript sources under `dir` (no node_modules, build output or symlinked trees). */
function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const file = path.join(dir, e.name);
    if (e.isSymbolicLink()) return [];
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'dist' ? [] : tsFiles(file);
    return /\.(ts|tsx|mts|cts)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [file] : [];
  });
}

const EQUALITY = new Set([
  ts.SyntaxKind.EqualsEqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsEqualsToken,
  ts.SyntaxKind.EqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsToken,
]);
/** A value named as a secret: `token`, `secret`, `apiToken`, `originVerifySecret`, `ORIGIN_VERIFY_SECRET`… (not `tokens`, `secretMatcher`). */
const SECRET_NAME = /(secret|token)$/i;
/** A function whose job is about secrets: `secretEquals`, `requireBearerToken`, `requireOriginSecret`… */
const SECRET_FUNCTION = /secret|token/i;

/** `e` without parentheses, `as`, `!` and `satisfies`. */
function bare(e: ts.Expression): ts.Expression {
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e) || ts.isSatisfiesExpression(e)) e = e.expression;
  return e;
}

/** The name an operand is known by: `x` → x, `a.b` → b, `a['b']` → b. */
function nameOf(e: ts.Expression): string | undefined {
  e = bare(e);
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return e.name.text;
  if (ts.isElementAccessExpression(e) && ts.isStringLiteralLike(e.argumentExpression)) return e.argumentExpression.text;
  return undefined;
}

/** The identifier an operand starts from: `actual.length` → actual. */
function rootOf(e: ts.Expression): string | undefined {
  e = bare(e);
  while (ts.isPropertyAccessExpression(e) || ts.isElementAccessExpression(e) || ts.isCallExpression(e)) e = bare(e.expression);
  return ts.isIdentifier(e) ? e.text : undefined;
}

/** Operands that make a comparison a type or presence check, not a comparison of values: undefined, null, '', typeof, numbers, booleans. */
function isCheckOperand(e: ts.Expression): boolean {
  e = bare(e);
  return (
    (ts.isIdentifier(e) && e.text === 'undefined') ||
    e.kind === ts.SyntaxKind.NullKeyword ||
    e.kind === ts.SyntaxKind.TrueKeyword ||
    e.kind === ts.SyntaxKind.FalseKeyword ||
    ts.isVoidExpression(e) ||
    ts.isTypeOfExpression(e) ||
    ts.isNumericLiteral(e) ||
    (ts.isStringLiteralLike(e) && e.text === '')
  );
}

function functionName(fn: ts.Node): string | undefined {
  if ((ts.isFunctionDeclaration(fn) || ts.isMethodDeclaration(fn) || ts.isFunctionExpression(fn)) && fn.name) return fn.name.getText();
  if ((ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) && (ts.isVariableDeclaration(fn.parent) || ts.isPropertyAssignment(fn.parent))) {
    return fn.parent.name.getText();
  }
  return undefined;
}

/** Names of the parameters and variables declared anywhere inside `fn`. */
function declaredWithin(fn: ts.Node): Set<string> {
  const names = new Set<string>();
  const visit = (n: ts.Node) => {
    if ((ts.isParameter(n) || ts.isVariableDeclaration(n)) && ts.isIdentifier(n.name)) names.add(n.name.text);
    ts.forEachChild(n, visit);
  };
  visit(fn);
  return names;
}

/**
 * Equality comparisons in `source` that compare a secret as a plain string:
 * an operand named as a secret (`sent === secret`, `deps.apiToken !== given`),
 * or, inside a function about secrets, two values of that function
 * (`actual === expected`, `actual.length !== expected.length` in secretEquals).
 * Type and presence checks (`secret === undefined`, `typeof token === 'string'`) are fine.
 */
function plainSecretComparisons(file: string, source: string): { file: string; line: number; text: string }[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found: { file: string; line: number; text: string }[] = [];
  const visit = (n: ts.Node, secretFns: ts.Node[]) => {
    if (ts.isFunctionLike(n) && SECRET_FUNCTION.test(functionName(n) ?? '')) secretFns = [...secretFns, n];
    if (ts.isBinaryExpression(n) && EQUALITY.has(n.operatorToken.kind) && !isCheckOperand(n.left) && !isCheckOperand(n.right)) {
      const named = [n.left, n.right].some((side) => SECRET_NAME.test(nameOf(side) ?? ''));
      const roots = [rootOf(n.left), rootOf(n.right)];
      const local = secretFns.some((fn) => {
        const names = declaredWithin(fn);
        return roots.every((r) => r !== undefined && names.has(r));
      });
      if (named || local) found.push({ file, line: sf.getLineAndCharacterOfPosition(n.getStart()).line + 1, text: n.getText() });
    }
    ts.forEachChild(n, (c) => visit(c, secretFns));
  };
  visit(sf, []);
  return found;
}
