/**
 * Every workspace package (the shared packages and each container) declares
 * what it imports at run time in its own `dependencies`: an image installs
 * `npm ci --omit=dev --workspace containers/<name>`, so a runtime import that
 * only the root (or a devDependency) provides works in tests and fails in
 * production. Type-only imports are erased and need nothing.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { expect } from 'chai';
import { REPO_ROOT } from '../../local/stack.js';

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export const WORKSPACE_DIRS = ['packages/contract', 'packages/service-kit', 'packages/client', 'containers/upload', 'containers/stream', 'containers/transcode'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sourceFiles(file);
    return /\.(ts|tsx|js|mjs)$/.test(name) ? [file] : [];
  });
}

/** Package names a source file needs at run time (`import type` and `export type` are erased). */
export function runtimeImports(source: string): string[] {
  const found = new Set<string>();
  const statement = /(?:^|\n)\s*(import|export)\s+(type\s+)?([^'";]*?\s+from\s+)?['"]([^'"]+)['"]/g;
  for (const m of source.matchAll(statement)) {
    if (m[2]) continue;
    const names = m[3] ?? '';
    // `import { type A, type B } from 'x'` is erased too.
    const braces = /^\s*\{([^}]*)\}\s+from\s+$/.exec(names);
    if (braces && braces[1]!.split(',').every((n) => n.trim() === '' || n.trim().startsWith('type '))) continue;
    found.add(m[4]!);
  }
  for (const m of source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.add(m[1]!);
  return [...found];
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`; undefined for relative paths and Node built-ins. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return builtinModules.includes(name) ? undefined : name;
}

describe('packaging: runtime imports are production dependencies', () => {
  for (const dir of WORKSPACE_DIRS) {
    it(`${dir} declares every package its sources import at run time`, () => {
      const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, dir, 'package.json'), 'utf8')) as Manifest;
      const deps = new Set(Object.keys(manifest.dependencies ?? {}));
      const missing: string[] = [];
      for (const file of sourceFiles(path.join(REPO_ROOT, dir, 'src'))) {
        for (const spec of runtimeImports(readFileSync(file, 'utf8'))) {
          const pkg = packageOf(spec);
          if (pkg && pkg !== manifest.name && !deps.has(pkg)) missing.push(`${path.relative(REPO_ROOT, file)} imports ${pkg}`);
        }
      }
      expect(missing, `${dir}/package.json dependencies`).to.deep.equal([]);
      expect(Object.keys(manifest.devDependencies ?? {}), 'workspace packages keep no devDependencies (the root holds tooling)').to.deep.equal([]);
    });
  }

  it('containers run with tsx, so it is a production dependency of each', () => {
    for (const name of ['upload', 'stream', 'transcode']) {
      const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'containers', name, 'package.json'), 'utf8')) as Manifest;
      expect(manifest.dependencies, name).to.have.property('tsx');
    }
  });

  it('the browser-safe packages import nothing from Node or AWS (the web app bundles them)', () => {
    for (const dir of ['packages/contract', 'packages/client']) {
      for (const file of sourceFiles(path.join(REPO_ROOT, dir, 'src'))) {
        const text = readFileSync(file, 'utf8');
        const bad = runtimeImports(text).filter((s) => s.startsWith('node:') || builtinModules.includes(s) || s.startsWith('@aws-sdk/'));
        expect(bad, path.relative(REPO_ROOT, file)).to.deep.equal([]);
        expect(/\bprocess\.|\bBuffer\b|\brequire\(/.test(text), `${path.relative(REPO_ROOT, file)} uses a Node global`).to.equal(false);
      }
    }
  });

  it('the import scanner sees value imports and skips type-only ones', () => {
    const src = [
      "import a from 'alpha';",
      "import type { B } from 'beta';",
      "import { type C, type D } from 'gamma';",
      "import { type E, f } from 'delta/sub';",
      "export { g } from '@scope/eps/x';",
      "export type { H } from 'zeta';",
      "const m = await import('eta');",
      "import './side-effect.js';",
    ].join('\n');
    expect(runtimeImports(src).map(packageOf).filter(Boolean).sort()).to.deep.equal(['@scope/eps', 'alpha', 'delta', 'eta']);
  });
});
