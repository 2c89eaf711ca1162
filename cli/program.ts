/** Command-line grammar of `vod` (commander), separate from the work so it can be tested. */
import { Command, InvalidArgumentError } from 'commander';
import { ApiError } from '@vod/client';
import { THUMBNAIL_LIMITS, VIDEO_STATUSES, type VideoStatus } from '@vod/contract';
import { CliError, type CaptionsAddOptions, type EditCommandOptions, type RetryCommandOptions, type StatusCommandOptions, type UploadCommandOptions } from './commands.js';
import { DEFAULT_URL, LOCAL_TOKEN_FILE, type CliConfig } from './config.js';

export interface GlobalOptions {
  url?: string;
  token?: string;
  json: boolean;
}

export interface Handlers {
  upload(file: string, opts: UploadCommandOptions, globals: GlobalOptions): Promise<void>;
  status(videoId: string | undefined, globals: GlobalOptions, opts?: StatusCommandOptions): Promise<void>;
  url(videoId: string, globals: GlobalOptions): Promise<void>;
  edit(videoId: string, opts: EditCommandOptions, globals: GlobalOptions): Promise<void>;
  rm(videoId: string, globals: GlobalOptions): Promise<void>;
  retry(videoId: string, opts: RetryCommandOptions, globals: GlobalOptions): Promise<void>;
  redrive(opts: { max?: number }, globals: GlobalOptions): Promise<void>;
  download(videoId: string, globals: GlobalOptions): Promise<void>;
  thumbnail(videoId: string, opts: { time: string; width?: number }, globals: GlobalOptions): Promise<void>;
  captionsAdd(videoId: string, file: string, opts: CaptionsAddOptions, globals: GlobalOptions): Promise<void>;
  captionsList(videoId: string, globals: GlobalOptions): Promise<void>;
  captionsRemove(videoId: string, language: string, globals: GlobalOptions): Promise<void>;
}

function videoStatus(value: string): VideoStatus {
  if (!(VIDEO_STATUSES as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${VIDEO_STATUSES.join(', ')}.`);
  return value as VideoStatus;
}

export function positiveInt(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}.`);
    return n;
  };
}

function thumbnailWidth(value: string): number {
  const n = Number(value);
  const { minWidth, maxWidth } = THUMBNAIL_LIMITS;
  if (!Number.isInteger(n) || n < minWidth || n > maxWidth) throw new InvalidArgumentError(`--width must be a whole number from ${minWidth} to ${maxWidth}.`);
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number of seconds (0 = wait forever).');
  return n;
}

const ENV_HELP = `
Configuration:
  --url     or VOD_URL        API base URL (default ${DEFAULT_URL}, the local stack)
  --token   or VOD_API_TOKEN  API token; if neither is set, ./${LOCAL_TOKEN_FILE} is read
                              (\`npm start\` keeps the local stack's token there)
  VOD_HOME                    where unfinished uploads are remembered (default ~/.vod)

Examples:
  vod upload clip.mp4                 upload, wait for the transcode, print the playback URL
  vod upload clip.mp4 --json          one JSON object on stdout, no progress bar
  vod status                          the newest videos (a page; --all for every one)
  vod status --status failed --all    every failed video
  vod status VIDEO_ID                 one video
  vod url VIDEO_ID                    a fresh signed playback URL
  vod edit VIDEO_ID --title "Launch"  set the title (and/or --description)
  vod retry VIDEO_ID --wait           transcode a failed video again, follow it
  vod rm VIDEO_ID                     delete a video and everything published for it
  vod thumbnail VIDEO_ID --time 12.5  a signed URL of a picture at 12.5 s (--width, default ${THUMBNAIL_LIMITS.defaultWidth})
  vod redrive                         move dead-lettered transcode jobs back to the queue
  vod captions add VIDEO_ID subs.srt --lang en   add English subtitles (WebVTT or SRT)

Exit status is 0 on success, 1 on failure, 130 when interrupted (Ctrl-C);
rerun an interrupted upload to resume it.`;

export function buildProgram(handlers: Handlers): Command {
  const program = new Command('vod')
    .description('Upload videos to the VOD platform, follow their transcoding and get signed playback URLs.')
    .option('--url <url>', 'API base URL (env VOD_URL)')
    .option('--token <token>', 'API token (env VOD_API_TOKEN, else ./.data/api-token)')
    .option('--json', 'print one JSON object on stdout (no progress bar)')
    .showHelpAfterError('(run vod --help for usage)')
    .addHelpText('after', ENV_HELP);

  const globals = (cmd: Command): GlobalOptions => {
    const g = cmd.optsWithGlobals<Partial<GlobalOptions>>();
    return { url: g.url, token: g.token, json: Boolean(g.json) };
  };

  program
    .command('upload')
    .description('upload FILE in resumable parts, wait until it is transcoded, print the signed playback URL')
    .argument('<file>', 'video file to upload')
    .option('-c, --concurrency <n>', 'parts in flight at once', positiveInt('--concurrency', 32), 4)
    .option('--no-wait', 'return once uploaded (print the video ID) instead of waiting for the transcode')
    .option('--no-resume', 'start a new upload even if an unfinished one exists for this file')
    .option('--timeout <seconds>', 'give up waiting for the transcode after this long (0 = never)', seconds, 0)
    .action(async (file: string, opts: UploadCommandOptions, cmd: Command) => handlers.upload(file, opts, globals(cmd)));

  program
    .command('status')
    .description('list videos with their status, newest first, one page at a time; or show one')
    .argument('[videoId]', 'video to show')
    .option('--status <state>', `only videos in this state (${VIDEO_STATUSES.join(', ')})`, videoStatus)
    .option('--limit <n>', 'videos per page (1–100, default 25)', positiveInt('--limit', 100))
    .option('--cursor <cursor>', 'the page after the one that printed this cursor')
    .option('--all', 'every page')
    .action(async (videoId: string | undefined, opts: StatusCommandOptions, cmd: Command) => {
      const { status, limit, cursor, all } = opts;
      const list = Object.fromEntries(Object.entries({ status, limit, cursor, all }).filter(([, v]) => v !== undefined));
      return Object.keys(list).length ? handlers.status(videoId, globals(cmd), list) : handlers.status(videoId, globals(cmd));
    });

  program
    .command('url')
    .description('print a fresh signed playback URL for a ready video')
    .argument('<videoId>', 'video')
    .action(async (videoId: string, _opts: unknown, cmd: Command) => handlers.url(videoId, globals(cmd)));

  program
    .command('edit')
    .description("set a video's title and/or description (an empty string removes one)")
    .argument('<videoId>', 'video')
    .option('--title <text>', 'one line, at most 200 characters')
    .option('--description <text>', 'at most 5000 characters')
    .action(async (videoId: string, opts: EditCommandOptions, cmd: Command) => handlers.edit(videoId, opts, globals(cmd)));

  program
    .command('rm')
    .alias('delete')
    .description('delete a video: its source, every published file and its record (playback URLs stop working)')
    .argument('<videoId>', 'video')
    .action(async (videoId: string, _opts: unknown, cmd: Command) => handlers.rm(videoId, globals(cmd)));

  program
    .command('retry')
    .description('transcode a failed video again from its stored source (no re-upload)')
    .argument('<videoId>', 'video')
    .option('--wait', 'follow the transcode until the video is ready')
    .option('--timeout <seconds>', 'with --wait: give up after this long (0 = never)', seconds, 0)
    .action(async (videoId: string, opts: { wait?: boolean; timeout: number }, cmd: Command) =>
      handlers.retry(videoId, { wait: Boolean(opts.wait), timeout: opts.timeout }, globals(cmd)),
    );

  program
    .command('redrive')
    .description("move transcode jobs from the dead-letter queue back to the jobs queue (after fixing what made them fail)")
    .option('--max <n>', 'move at most this many', positiveInt('--max', 10_000))
    .action(async (opts: { max?: number }, cmd: Command) => handlers.redrive(opts, globals(cmd)));

  program
    .command('download')
    .description('print a signed URL of the MP4 download of a ready video (saved under its original name)')
    .argument('<videoId>', 'video')
    .action(async (videoId: string, _opts: unknown, cmd: Command) => handlers.download(videoId, globals(cmd)));

  program
    .command('thumbnail')
    .description('print a signed URL of a JPEG of a ready video at a time, made on demand and kept')
    .argument('<videoId>', 'video')
    .requiredOption('--time <seconds>', 'seconds from the start, e.g. 12.5 (0 to the duration)')
    .option('--width <px>', `width in pixels, ${THUMBNAIL_LIMITS.minWidth}–${THUMBNAIL_LIMITS.maxWidth} (default ${THUMBNAIL_LIMITS.defaultWidth}); the height follows the picture`, thumbnailWidth)
    .action(async (videoId: string, opts: { time: string; width?: number }, cmd: Command) => handlers.thumbnail(videoId, opts, globals(cmd)));
  const captions = program.command('captions').description("a ready video's captions and subtitles (WebVTT or SRT files)");
  captions
    .command('add')
    .description('add (or replace) the subtitles in one language from a WebVTT or SRT file')
    .argument('<videoId>', 'video')
    .argument('<file>', 'a .vtt or .srt file (UTF-8)')
    .requiredOption('--lang <tag>', 'language, a BCP 47 tag (en, pt-BR, …)')
    .option('--label <name>', "name in players' menus (default: the language's name)")
    .action(async (videoId: string, file: string, opts: CaptionsAddOptions, cmd: Command) => handlers.captionsAdd(videoId, file, { lang: opts.lang, label: opts.label }, globals(cmd)));
  captions
    .command('list')
    .alias('ls')
    .description("list a video's captions")
    .argument('<videoId>', 'video')
    .action(async (videoId: string, _opts: unknown, cmd: Command) => handlers.captionsList(videoId, globals(cmd)));
  captions
    .command('rm')
    .description("remove a video's captions in one language")
    .argument('<videoId>', 'video')
    .argument('<language>', 'BCP 47 tag')
    .action(async (videoId: string, language: string, _opts: unknown, cmd: Command) => handlers.captionsRemove(videoId, language, globals(cmd)));

  return program;
}

/** A one-line, human explanation of an error, with a hint where one helps. */
export function describeError(err: unknown, config?: CliConfig): { code: string; message: string; exitCode: number } {
  if (err instanceof CliError) return { code: err.code, message: err.message, exitCode: err.exitCode };
  if (err instanceof ApiError) {
    let message = err.message;
    if (err.status === 401) {
      const from = { flag: '--token', env: 'VOD_API_TOKEN', file: LOCAL_TOKEN_FILE, none: '' }[config?.tokenSource ?? 'none'];
      message += from ? ` (token taken from ${from})` : ' (no token set: use --token or VOD_API_TOKEN)';
    } else if (err.status === 0) {
      message += `. Is the server running? Start the local stack with \`npm start\`, or point --url / VOD_URL at it.`;
    } else if (err.status === 404 && err.code === 'not_found') {
      message = `Not found: ${message}`;
    }
    return { code: err.code, message, exitCode: 1 };
  }
  const e = err as Error;
  return { code: 'unexpected', message: e?.message ?? String(err), exitCode: 1 };
}
