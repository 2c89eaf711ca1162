import { useEffect, useState, type RefObject } from 'react';
import { formatDuration } from '@vod/client';
import { tileAt, type Storyboard } from '../storyboard.js';

/**
 * A scrub bar under the player: the frame under the pointer (from the
 * storyboard's sprite sheets) and its time while hovering or dragging;
 * click or drag to seek; arrow keys step one tile.
 */
export function SeekPreview({ storyboard, duration, videoRef }: { storyboard: Storyboard; duration: number; videoRef: RefObject<HTMLVideoElement | null> }) {
  const [hover, setHover] = useState<{ fraction: number } | undefined>();
  const [now, setNow] = useState(0);
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    const video = videoRef.current;
    if (!video) return;
    const update = () => setNow(video.currentTime);
    video.addEventListener('timeupdate', update);
    return () => video.removeEventListener('timeupdate', update);
  }, [videoRef]);

  const fractionOf = (e: React.PointerEvent<HTMLDivElement>) => {
    const box = e.currentTarget.getBoundingClientRect();
    return Math.min(1, Math.max(0, (e.clientX - box.left) / box.width));
  };
  const seek = (seconds: number) => {
    const video = videoRef.current;
    if (video) video.currentTime = Math.min(duration, Math.max(0, seconds));
  };
  const at = hover ? hover.fraction * duration : undefined;
  const tile = at !== undefined ? tileAt(storyboard, at) : undefined;

  return (
    <div className="seek">
      <div
        className="seek-bar"
        role="slider"
        tabIndex={0}
        aria-label="Seek"
        aria-valuemin={0}
        aria-valuemax={Math.round(duration)}
        aria-valuenow={Math.round(now)}
        aria-valuetext={formatDuration(now)}
        data-testid="seek-bar"
        onPointerMove={(e) => {
          setHover({ fraction: fractionOf(e) });
          if (dragging) seek(fractionOf(e) * duration);
        }}
        onPointerLeave={() => !dragging && setHover(undefined)}
        onPointerDown={(e) => {
          e.currentTarget.setPointerCapture(e.pointerId);
          setDragging(true);
          seek(fractionOf(e) * duration);
        }}
        onPointerUp={() => setDragging(false)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowRight') seek(now + storyboard.intervalSeconds);
          else if (e.key === 'ArrowLeft') seek(now - storyboard.intervalSeconds);
          else return;
          e.preventDefault();
        }}
      >
        <div className="seek-played" style={{ width: `${duration > 0 ? (100 * now) / duration : 0}%` }} />
        {hover && tile && (
          <div className="seek-preview" style={{ left: `${hover.fraction * 100}%` }} data-testid="seek-preview" data-tile={tile.index}>
            <div
              className="seek-tile"
              data-testid="seek-tile"
              style={{
                width: storyboard.tileWidth,
                height: storyboard.tileHeight,
                backgroundImage: `url("${tile.url}")`,
                backgroundPosition: `-${tile.x}px -${tile.y}px`,
              }}
            />
            <span className="seek-time">{formatDuration(at)}</span>
          </div>
        )}
      </div>
    </div>
  );
}
