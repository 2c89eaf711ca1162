import { expect } from 'chai';
import { AUDIO, DEFAULT_LADDER, type LadderRung } from '@vod/contract';
import { h264Level, outputFrameRate, planLadder, type Rendition } from '../../containers/transcode/src/ladder.js';
import { fps } from '../../containers/transcode/src/frame-rate.js';

const dims = (rs: Rendition[]) => rs.map((r) => `${r.width}x${r.height}`);
const names = (rs: Rendition[]) => rs.map((r) => r.name);

/** |long − short × source aspect| ≤ 1 px: the aspect ratio survives rounding to even sizes. */
function expectAspectKept(rs: Rendition[], srcW: number, srcH: number) {
  for (const r of rs) {
    const expectedWidth = (r.height * srcW) / srcH;
    const expectedHeight = (r.width * srcH) / srcW;
    const err = Math.min(Math.abs(r.width - expectedWidth), Math.abs(r.height - expectedHeight));
    expect(err, `${r.name} ${r.width}x${r.height} vs ${srcW}x${srcH}`).to.be.at.most(1);
  }
}

function expectEven(rs: Rendition[]) {
  for (const r of rs) {
    expect(r.width % 2, `${r.name} width`).to.equal(0);
    expect(r.height % 2, `${r.name} height`).to.equal(0);
    expect(r.width).to.be.at.least(2);
    expect(r.height).to.be.at.least(2);
  }
}

describe('transcode/ladder', () => {
  describe('DEFAULT_LADDER', () => {
    it('follows the Apple HLS Authoring Spec bit rates, High profile, and caps the low rungs at 30 fps', () => {
      expect(DEFAULT_LADDER.map((r) => [r.name, r.shortSide, r.videoBitrateKbps])).to.deep.equal([
        ['1080p', 1080, 6000],
        ['720p', 720, 3000],
        ['540p', 540, 2000],
        ['360p', 360, 730],
        ['234p', 234, 145],
      ]);
      expect(DEFAULT_LADDER.every((r) => r.profile === 'high')).to.equal(true);
      expect(DEFAULT_LADDER.filter((r) => r.maxFrameRate === 30).map((r) => r.name)).to.deep.equal(['360p', '234p']);
      expect(Object.isFrozen(DEFAULT_LADDER)).to.equal(true);
    });

    it('AUDIO is AAC-LC 128 kbit/s stereo 48 kHz', () => {
      expect(AUDIO).to.include({ codec: 'aac', codecs: 'mp4a.40.2', bitrateKbps: 128, channels: 2, sampleRate: 48000 });
    });
  });

  describe('planLadder', () => {
    it('1920x1080 30 fps gets every rung, 16:9 sizes, VBV from the factors, levels from the size', () => {
      const rs = planLadder({ displayWidth: 1920, displayHeight: 1080, frameRate: 30 });
      expect(names(rs)).to.deep.equal(['1080p', '720p', '540p', '360p', '234p']);
      expect(dims(rs)).to.deep.equal(['1920x1080', '1280x720', '960x540', '640x360', '416x234']);
      expect(rs[0]).to.deep.equal({
        name: '1080p',
        width: 1920,
        height: 1080,
        frameRate: { num: 30, den: 1 },
        videoBitrateKbps: 6000,
        maxrateKbps: 9000,
        bufsizeKbits: 12000,
        profile: 'high',
        level: '4.0',
      });
      expect(rs.map((r) => r.level)).to.deep.equal(['4.0', '3.1', '3.1', '3.0', '3.0']);
    });

    it('1280x720 never upscales: 720p and below', () => {
      const rs = planLadder({ displayWidth: 1280, displayHeight: 720, frameRate: 25 });
      expect(names(rs)).to.deep.equal(['720p', '540p', '360p', '234p']);
      expect(dims(rs)).to.deep.equal(['1280x720', '960x540', '640x360', '416x234']);
      expect(rs.every((r) => r.frameRate.num === 25 && r.frameRate.den === 1)).to.equal(true);
    });

    it('portrait 1080x1920 keeps its orientation: rungs apply to the short side', () => {
      const rs = planLadder({ displayWidth: 1080, displayHeight: 1920, frameRate: 30 });
      expect(names(rs)).to.deep.equal(['1080p', '720p', '540p', '360p', '234p']);
      expect(dims(rs)).to.deep.equal(['1080x1920', '720x1280', '540x960', '360x640', '234x416']);
    });

    it('odd 853x481 source: even sizes, aspect kept within 1 px, no rung above 481', () => {
      const rs = planLadder({ displayWidth: 853, displayHeight: 481, frameRate: 30 });
      expect(names(rs)).to.deep.equal(['360p', '234p']);
      // 234 × 853/481 = 414.97 → 414 (nearest even); 360 × 853/481 = 638.4 → 638.
      expect(dims(rs)).to.deep.equal(['638x360', '414x234']);
      expectEven(rs);
      expectAspectKept(rs, 853, 481);
    });

    it('odd 1000x563 source: 540p is 960x540', () => {
      const rs = planLadder({ displayWidth: 1000, displayHeight: 563, frameRate: 30 });
      expect(dims(rs)).to.deep.equal(['960x540', '640x360', '416x234']);
      expectEven(rs);
      expectAspectKept(rs, 1000, 563);
    });

    it('rounding never goes above the source size (1281x720 → 1280x720, not 1282)', () => {
      const [top] = planLadder({ displayWidth: 1281, displayHeight: 720, frameRate: 30 });
      expect(top).to.include({ name: '720p', width: 1280, height: 720 });
    });

    it('a tiny 160x90 source gets one rendition at its own size with a scaled-down bit rate', () => {
      const rs = planLadder({ displayWidth: 160, displayHeight: 90, frameRate: 30 });
      expect(rs).to.have.length(1);
      const [r] = rs;
      expect(r).to.deep.include({ name: '90p', width: 160, height: 90, frameRate: { num: 30, den: 1 }, profile: 'high', level: '3.0' });
      // 145 × (14400 / 97344)^0.75 ≈ 35 → the 48 kbit/s floor.
      expect(r!.videoBitrateKbps).to.equal(48);
      expect(r!.maxrateKbps).to.equal(72);
      expect(r!.bufsizeKbits).to.equal(96);
    });

    it('a 320x180 source gets one rendition with a bit rate between the floor and the 234p rung', () => {
      const [r] = planLadder({ displayWidth: 320, displayHeight: 180, frameRate: 30 });
      expect(r).to.include({ name: '180p', width: 320, height: 180 });
      expect(r!.videoBitrateKbps).to.be.within(49, 144);
    });

    it('odd tiny source rounds down to even (161x91 → 160x90)', () => {
      const [r] = planLadder({ displayWidth: 161, displayHeight: 91, frameRate: 30 });
      expect(r).to.include({ width: 160, height: 90, name: '90p' });
    });

    it('a rotated phone recording is planned from its display size (coded 1920x1080, rotation 90)', () => {
      // probeSource reports displayWidth/displayHeight already swapped for 90/270 degrees.
      const rs = planLadder({ displayWidth: 1080, displayHeight: 1920, frameRate: 29.97 });
      expect(dims(rs)[0]).to.equal('1080x1920');
      expect(rs.every((r) => r.height > r.width)).to.equal(true);
      expect(fps(rs[0]!.frameRate)).to.be.closeTo(30000 / 1001, 1e-9);
    });

    it('60 fps: top rungs keep 60 (levels 4.2 / 3.2 / 3.2 by macroblock rate), 360p and below halve to 30', () => {
      const rs = planLadder({ displayWidth: 1920, displayHeight: 1080, frameRate: 60 });
      expect(rs.map((r) => fps(r.frameRate))).to.deep.equal([60, 60, 60, 30, 30]);
      // 960x540 = 2040 MBs × 60 = 122 400 MB/s > 108 000 (3.1) → 3.2.
      expect(rs.map((r) => r.level)).to.deep.equal(['4.2', '3.2', '3.2', '3.0', '3.0']);
    });

    it('frame rates above 60 are halved; 59.94 stays NTSC exact', () => {
      expect(fps(planLadder({ displayWidth: 1280, displayHeight: 720, frameRate: 120 })[0]!.frameRate)).to.equal(60);
      const ntsc = planLadder({ displayWidth: 1280, displayHeight: 720, frameRate: 60000 / 1001 });
      expect(fps(ntsc[0]!.frameRate)).to.equal(60000 / 1001);
      expect(fps(ntsc.at(-1)!.frameRate)).to.equal(30000 / 1001);
    });

    it('unknown frame rate falls back to 30', () => {
      expect(fps(planLadder({ displayWidth: 640, displayHeight: 360, frameRate: 0 })[0]!.frameRate)).to.equal(30);
      expect(fps(planLadder({ displayWidth: 640, displayHeight: 360, frameRate: NaN })[0]!.frameRate)).to.equal(30);
    });

    it('a square source uses the same side for both', () => {
      const rs = planLadder({ displayWidth: 720, displayHeight: 720, frameRate: 30 });
      expect(dims(rs)).to.deep.equal(['720x720', '540x540', '360x360', '234x234']);
    });

    it('custom ladders: explicit level is kept, duplicate names get a bit-rate suffix, order is by size', () => {
      const ladder: LadderRung[] = [
        { name: '720p', shortSide: 720, videoBitrateKbps: 3000, maxrateFactor: 1.1, bufsizeFactor: 1.5, profile: 'main', level: '4.0' },
        { name: '720p', shortSide: 720, videoBitrateKbps: 4500, maxrateFactor: 1.1, bufsizeFactor: 1.5, profile: 'high' },
        { name: '360p', shortSide: 360, videoBitrateKbps: 800, maxrateFactor: 1, bufsizeFactor: 1, profile: 'main' },
      ];
      const rs = planLadder({ displayWidth: 1920, displayHeight: 1080, frameRate: 30 }, ladder);
      expect(names(rs)).to.deep.equal(['720p', '720p-3000k', '360p']);
      expect(rs[1]).to.include({ level: '4.0', profile: 'main', maxrateKbps: 3300, bufsizeKbits: 4500 });
    });

    it('rejects an invalid size or an empty ladder', () => {
      expect(() => planLadder({ displayWidth: 0, displayHeight: 720, frameRate: 30 })).to.throw(RangeError);
      expect(() => planLadder({ displayWidth: 1280, displayHeight: 720, frameRate: 30 }, [])).to.throw(RangeError);
    });
  });

  describe('outputFrameRate', () => {
    it('snaps near-standard rates (a phone VFR 30.12 → 30), keeps odd ones to 3 decimals', () => {
      expect(outputFrameRate(2500 / 83)).to.equal(30);
      expect(outputFrameRate(23.976)).to.equal(24000 / 1001);
      expect(outputFrameRate(25)).to.equal(25);
      expect(outputFrameRate(15)).to.equal(15);
      expect(outputFrameRate(12.3456)).to.equal(12.346);
      expect(outputFrameRate(50, 30)).to.equal(25);
    });
  });

  describe('h264Level', () => {
    const base = { maxrateKbps: 1000, bufsizeKbits: 1000, profile: 'high' as const };
    it('picks the lowest level for size and rate (ITU-T H.264 Table A-1), never below 3.0', () => {
      expect(h264Level({ ...base, width: 416, height: 234, frameRate: 30 })).to.equal('3.0');
      expect(h264Level({ ...base, width: 1280, height: 720, frameRate: 30 })).to.equal('3.1');
      expect(h264Level({ ...base, width: 1920, height: 1080, frameRate: 30 })).to.equal('4.0');
      expect(h264Level({ ...base, width: 1920, height: 1080, frameRate: 60 })).to.equal('4.2');
      expect(h264Level({ ...base, width: 3840, height: 2160, frameRate: 30 })).to.equal('5.1');
    });
    it('accounts for bit rate and CPB limits (High profile: 1.25 × Main)', () => {
      // 720p30 fits 3.1 by size; 20 Mbit/s peak exceeds 3.1's 17.5 Mbit/s (High) → 3.2.
      expect(h264Level({ width: 1280, height: 720, frameRate: 30, maxrateKbps: 20000, bufsizeKbits: 20000, profile: 'high' })).to.equal('3.2');
      expect(h264Level({ width: 640, height: 360, frameRate: 30, maxrateKbps: 12000, bufsizeKbits: 12000, profile: 'main' })).to.equal('3.1');
    });
  });
});
