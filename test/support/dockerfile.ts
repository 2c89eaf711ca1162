/** Reading Dockerfiles in tests: instructions and COPY sources. */

/** One Dockerfile instruction, continuation lines joined. */
export interface Instruction {
  keyword: string;
  args: string;
  /** 1-based line of the instruction's first line. */
  line: number;
}

/** Splits a Dockerfile into instructions (comments and blank lines dropped, `\` continuations joined). */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buffer = '';
  let start = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (buffer === '' && (line === '' || line.startsWith('#'))) return;
    if (buffer !== '' && line.startsWith('#')) return; // comment inside a continuation
    if (buffer === '') start = i + 1;
    if (line.endsWith('\\')) {
      buffer += `${line.slice(0, -1)} `;
      return;
    }
    buffer += line;
    const m = /^(\S+)\s*(.*)$/s.exec(buffer.trim());
    if (m) out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start });
    buffer = '';
  });
  return out;
}

/** Source paths of a COPY/ADD (flags like `--chown` and `--from` dropped; exec form supported). */
export function copySources(args: string): { from?: string; sources: string[] } {
  let rest = args;
  let from: string | undefined;
  while (rest.startsWith('--')) {
    const m = /^--(\S+?)(?:=(\S+))?\s+(.*)$/s.exec(rest);
    if (!m) break;
    if (m[1] === 'from') from = m[2];
    rest = m[3]!;
  }
  const parts = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/);
  return { from, sources: parts.slice(0, -1) };
}
