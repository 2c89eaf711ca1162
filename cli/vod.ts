/**
 * `vod` — the platform's command-line client.
 *   vod upload FILE | status [ID] | url ID | edit ID | rm ID | retry ID | redrive    (see `vod --help`)
 */
import { CommanderError } from 'commander';
import { escapeControl } from './format.js';
import { captionsAddCommand, captionsListCommand, captionsRemoveCommand, downloadCommand, thumbnailCommand, editCommand, redriveCommand, removeCommand, retryCommand, statusCommand, uploadCommand, urlCommand, type Context } from './commands.js';
import { resolveConfig, type CliConfig } from './config.js';
import { buildProgram, describeError, type GlobalOptions } from './program.js';
import { defaultStatePath } from './state.js';

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  const abort = new AbortController();
  let interrupted = 0;
  const onSigint = () => {
    // First Ctrl-C stops cleanly (upload state kept); a second one quits at once.
    if (++interrupted > 1) process.exit(130);
    abort.abort();
  };
  process.on('SIGINT', onSigint);

  let config: CliConfig | undefined;
  let json = argv.includes('--json');
  const context = (g: GlobalOptions): Context => {
    json = g.json;
    config = resolveConfig({ flags: { url: g.url, token: g.token }, env: process.env, cwd: process.cwd() });
    return {
      config,
      json: g.json,
      io: { out: (t) => process.stdout.write(`${t}\n`), err: process.stderr },
      statePath: defaultStatePath(),
      signal: abort.signal,
    };
  };

  const program = buildProgram({
    upload: (file, opts, g) => uploadCommand(file, opts, context(g)),
    status: (id, g, opts) => statusCommand(id, context(g), opts),
    url: (id, g) => urlCommand(id, context(g)),
    edit: (id, opts, g) => editCommand(id, opts, context(g)),
    rm: (id, g) => removeCommand(id, context(g)),
    retry: (id, opts, g) => retryCommand(id, opts, context(g)),
    redrive: (opts, g) => redriveCommand(opts, context(g)),
    download: (id, g) => downloadCommand(id, context(g)),
    thumbnail: (id, opts, g) => thumbnailCommand(id, opts, context(g)),
    captionsAdd: (id, file, opts, g) => captionsAddCommand(id, file, opts, context(g)),
    captionsList: (id, g) => captionsListCommand(id, context(g)),
    captionsRemove: (id, language, g) => captionsRemoveCommand(id, language, context(g)),
  }).exitOverride();

  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode; // usage errors/help: commander already printed
    const { code, message, exitCode } = describeError(err, config);
    if (json) process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
    // Messages can carry a file name or the server's words: never raw control characters on a terminal.
    process.stderr.write(`vod: ${escapeControl(message)}\n`);
    return exitCode;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

process.exitCode = await main();
