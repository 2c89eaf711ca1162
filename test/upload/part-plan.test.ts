import { expect } from 'chai';
import { MiB, S3_MAX_PARTS, S3_MIN_PART_BYTES, partBytes, planParts } from '../../containers/upload/src/part-plan.js';

describe('planParts (S3 multipart limits)', () => {
  it('uses the preferred part size when it fits', () => {
    expect(planParts(100 * MiB)).to.deep.equal({ partSize: 8 * MiB, partCount: 13 });
    expect(planParts(1)).to.deep.equal({ partSize: 8 * MiB, partCount: 1 });
  });

  it('never goes below S3’s 5 MiB minimum', () => {
    expect(planParts(20 * MiB, 1024).partSize).to.equal(S3_MIN_PART_BYTES);
  });

  it('grows parts so 50 GiB and 1 TiB fit in 10,000 parts', () => {
    for (const size of [50 * 1024 * MiB, 1024 * 1024 * MiB, 5 * 1024 * 1024 * MiB]) {
      const plan = planParts(size);
      expect(plan.partCount).to.be.at.most(S3_MAX_PARTS);
      expect(plan.partSize % MiB).to.equal(0);
      expect(plan.partSize * plan.partCount).to.be.at.least(size);
    }
  });

  it('sizes the last part to what is left', () => {
    const size = 20 * MiB + 5;
    const plan = planParts(size, 5 * MiB);
    expect(plan.partCount).to.equal(5);
    expect(partBytes(plan, size, 4)).to.equal(5 * MiB);
    expect(partBytes(plan, size, 5)).to.equal(5);
  });

  it('rejects sizes S3 cannot hold', () => {
    expect(() => planParts(0)).to.throw(RangeError);
    expect(() => planParts(1.5)).to.throw(RangeError);
    expect(() => planParts(6 * 1024 * 1024 * MiB)).to.throw(RangeError, /5 TiB/);
  });
});
