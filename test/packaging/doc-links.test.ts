/**
 * Every markdown document the repository points to exists. Code comments,
 * config files and docs send readers to files such as docs/architecture.md;
 * two comments once pointed to a deploy guide under docs/ that was never
 * written. This scans the sources and config (TypeScript, JavaScript, YAML,
 * markdown, Dockerfiles; not node_modules, build output, .git, local data
 * or test fixtures) for repo-relative `*.md` paths and checks each file is
 * there. Web URLs are not checked (no network in tests), nor `#anchors`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';

const ROOT = path.resolve(new URL('../../', import.meta.url).pathname);

/** Directories that are not the project's own text: dependencies, build output, VCS, local stack data, fixtures. */
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', '.data', 'test-artifacts', 'fixtures', '__fixtures__']);
const SCANNED = /\.(ts|tsx|mts|cts|js|mjs|cjs|ya?ml|md)$|^Dockerfile/;

function scannedFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const file = path.join(dir, e.name);
    // Symlinks are skipped: node_modules in a worktree is one, and nothing of ours is reached only through one.
    if (e.isSymbolicLink()) return [];
    if (e.isDirectory()) return SKIP_DIRS.has(e.name) ? [] : scannedFiles(file);
    return e.isFile() && SCANNED.test(e.name) ? [file] : [];
  });
}

interface DocRef {
  /** Repo-relative file and 1-based line of the mention. */
  from: string;
  line: number;
  /** The path as written, e.g. `docs/architecture.md`. */
  ref: string;
  /** Whether the file exists (resolved against the mentioning file's directory, then the repo root). */
  exists: boolean;
}

/** The markdown paths `text` (the content of `file`) mentions, outside web URLs. */
function docRefs(file: string, text: string): DocRef[] {
  const refs: DocRef[] = [];
  text.split('\n').forEach((raw, i) => {
    // A URL's path is another site's (or GitHub's rendering of this one): not a file here.
    const line = raw.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s)>\]'"`]+/gi, ' ');
    // A path ending in .md, not part of a longer word or path; `#anchor`, `)` or `:` may follow.
    for (const m of line.matchAll(/(?<![\w./@-])((?:\.{1,2}\/)*(?:[\w.-]+\/)*[\w-][\w.-]*\.md)(?![\w/-])/g)) {
      const ref = m[1]!;
      const candidates = [path.resolve(path.dirname(file), ref)];
      // A bare "docs/…" path in infra/index.ts means the repo's docs/, as a reader takes it; ./ and ../ are relative to the file.
      if (!ref.startsWith('.')) candidates.push(path.resolve(ROOT, ref));
      const inRepo = candidates.filter((c) => c === ROOT || c.startsWith(ROOT + path.sep));
      // A path out of the checkout (e.g. ../shared/…) is not this repository's to keep.
      if (inRepo.length === 0) continue;
      refs.push({ from: path.relative(ROOT, file), line: i + 1, ref, exists: inRepo.some((c) => existsSync(c)) });
    }
  });
  return refs;
}

describe('packaging: documentation links', () => {
  let refs: DocRef[];

  before(() => {
    refs = scannedFiles(ROOT).flatMap((file) => docRefs(file, readFileSync(file, 'utf8')));
  });

  it('the scan sees the references there are (the README links docs/architecture.md)', () => {
    // Guards the scan itself: if it read nothing or matched nothing, the next test would pass vacuously.
    expect(refs.filter((r) => r.from === 'README.md' && r.ref === 'docs/architecture.md' && r.exists)).to.not.be.empty;
  });

  it('every markdown document a source, config or doc file refers to exists', () => {
    const missing = refs.filter((r) => !r.exists).map((r) => `${r.from}:${r.line} refers to ${r.ref}, which does not exist`);
    expect(missing, missing.join('\n')).to.deep.equal([]);
  });
});
