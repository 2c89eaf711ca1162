import { expect } from 'chai';
import { DEFAULT_CHUNK_PLAN, planChunks } from '../../containers/transcode/src/chunk-plan.js';

const opts = (o: Partial<typeof DEFAULT_CHUNK_PLAN> = {}) => ({ ...DEFAULT_CHUNK_PLAN, ...o });
const spans = (d: number, o = opts()) => planChunks(d, o).map((c) => [c.startSeconds, c.endSeconds]);

describe('transcode/chunk-plan', () => {
  it('a source shorter than two chunks is one chunk, read to its end plus the margin', () => {
    expect(planChunks(8.3)).to.deep.equal([{ index: 0, startSeconds: 0, endSeconds: 10.3, firstSegment: 0, last: true }]);
    expect(spans(119.9)).to.deep.equal([[0, 121.9]]);
  });

  it('otherwise: a short first chunk, then whole chunks on the chunk grid, the last to the end', () => {
    expect(spans(180)).to.deep.equal([[0, 6], [6, 60], [60, 120], [120, 182]]);
    const plan = planChunks(180);
    expect(plan.map((c) => c.firstSegment)).to.deep.equal([0, 1, 10, 20]);
    expect(plan.map((c) => c.last)).to.deep.equal([false, false, false, true]);
    expect(plan.map((c) => c.index)).to.deep.equal([0, 1, 2, 3]);
  });

  it('a last range shorter than one segment joins the chunk before it', () => {
    // Debian's wannaworktogether.mp4 is 180.26 s: no chunk of 0.26 s.
    expect(spans(180.26).map(([a, b]) => [a, Number(b!.toFixed(2))])).to.deep.equal([[0, 6], [6, 60], [60, 120], [120, 182.26]]);
    expect(spans(185.9)).to.have.length(4);
    // One whole segment or more stays a chunk of its own.
    expect(spans(186)).to.deep.equal([[0, 6], [6, 60], [60, 120], [120, 180], [180, 188]]);
    const plan = planChunks(180.26);
    expect(plan.map((c) => c.last)).to.deep.equal([false, false, false, true]);
    expect(plan.map((c) => c.index)).to.deep.equal([0, 1, 2, 3]);
  });

  it('every boundary is on the segment grid, also for durations that are not a multiple', () => {
    for (const d of [120, 125.4, 181.7, 3601.02, 7200]) {
      const plan = planChunks(d, opts({ chunkSeconds: 45, firstChunkSeconds: 10 }));
      for (const c of plan) {
        expect(c.startSeconds % 6, `${d}: start ${c.startSeconds}`).to.equal(0);
        if (!c.last) expect(c.endSeconds % 6, `${d}: end ${c.endSeconds}`).to.equal(0);
        expect(c.firstSegment).to.equal(c.startSeconds / 6);
      }
      // Consecutive, covering the whole source, nothing after the margin.
      plan.slice(1).forEach((c, i) => expect(c.startSeconds).to.equal(plan[i]!.endSeconds));
      expect(plan.at(-1)!.endSeconds).to.equal(d + 2);
      expect(plan.filter((c) => c.last)).to.have.length(1);
    }
  });

  it('chunk lengths round up to whole segments; the first chunk is at most one chunk long', () => {
    // 45 s → 48 s chunks, 10 s → 12 s first chunk.
    expect(spans(130, opts({ chunkSeconds: 45, firstChunkSeconds: 10 }))).to.deep.equal([[0, 12], [12, 48], [48, 96], [96, 132]]);
    // A first chunk as long as a chunk is simply the first chunk.
    expect(spans(130, opts({ chunkSeconds: 60, firstChunkSeconds: 90 }))).to.deep.equal([[0, 60], [60, 120], [120, 132]]);
  });

  it('rejects durations and settings that make no grid', () => {
    expect(() => planChunks(0)).to.throw(RangeError);
    expect(() => planChunks(Number.NaN)).to.throw(RangeError);
    expect(() => planChunks(10, opts({ segmentSeconds: 2.5 }))).to.throw(RangeError);
    expect(() => planChunks(10, opts({ chunkSeconds: 0 }))).to.throw(RangeError);
  });
});
