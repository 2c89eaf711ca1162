import type { VideoRecord } from '@vod/client';

type PosterInfo = NonNullable<VideoRecord['poster']>;

/**
 * A video's poster in a card: WebP where the browser takes it, JPEG
 * otherwise, the width picked by the browser from `sizes` (srcset). An
 * audio-only video says so; a poster not made yet (or that failed) leaves
 * a neutral box.
 */
export function Poster({ poster, title, sizes = '(max-width: 600px) 100vw, 320px' }: { poster?: PosterInfo; title: string; sizes?: string }) {
  if (!poster?.available) {
    const text = poster?.reason === 'no_picture' ? 'Audio only · no picture' : '';
    return (
      <div className="poster poster-empty" data-testid="poster-empty" aria-hidden={text ? undefined : true}>
        {text}
      </div>
    );
  }
  const srcset = (format: 'jpeg' | 'webp') =>
    poster.images
      .filter((i) => i.format === format && i.url)
      .map((i) => `${i.url} ${i.width}w`)
      .join(', ');
  const jpegs = poster.images.filter((i) => i.format === 'jpeg' && i.url);
  const fallback = jpegs[Math.min(1, jpegs.length - 1)];
  if (!fallback) return <div className="poster poster-empty" aria-hidden />;
  return (
    <picture className="poster">
      <source type="image/webp" srcSet={srcset('webp')} sizes={sizes} />
      <img src={fallback.url} srcSet={srcset('jpeg')} sizes={sizes} alt={`Poster of ${title}`} loading="lazy" width={fallback.width} height={fallback.height} data-testid="poster" />
    </picture>
  );
}

/** The URL of the largest JPEG of a poster (the player's `poster` attribute), if there is one. */
export function largestPosterUrl(poster?: PosterInfo): string | undefined {
  if (!poster?.available) return undefined;
  return [...poster.images].filter((i) => i.format === 'jpeg').sort((a, b) => b.width - a.width)[0]?.url;
}
