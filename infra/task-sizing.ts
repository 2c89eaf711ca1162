/** How much CPU and memory an ECS task reserves, and the transcode task's size from its ladder. */

export interface TaskSize {
  /** CPU units (1024 = one vCPU). */
  cpu: number;
  /** Hard memory limit, MiB. */
  memory: number;
}

export interface TranscodeSizingOptions {
  /** vCPUs per 1080p30 rendition encoded in parallel. Default 1. */
  vcpuPer1080p?: number;
  /** Memory per 1080p rendition (encoder lookahead + frame buffers), MiB. Default 640. */
  memoryPer1080pMiB?: number;
  /** Fixed memory per rendition regardless of size (encoder state, muxer), MiB. Default 128. */
  memoryPerRenditionMiB?: number;
  /** Worker process + decoder base memory, MiB. Default 512. */
  baseMemoryMiB?: number;
}

/**
 * Task size for the transcode worker, which encodes every rung of the ladder
 * in one ffmpeg pass (one decode, N encodes). Encoding cost scales with pixels
 * per frame, so each rung weighs (height / 1080)²; 1080p costs
 * `vcpuPer1080p` vCPU.
 *
 * - cpu = 1024 × ceil(vcpuPer1080p × Σ weight) CPU units (whole vCPUs, ≥ 1)
 * - memory = base + Σ (memoryPerRendition + memoryPer1080p × weight), rounded up to 256 MiB
 *
 * Example: ladder [1080, 720, 480, 360] → Σ weight ≈ 1.75 → 2048 CPU units,
 * 512 + 4×128 + 640×1.75 ≈ 2144 → 2304 MiB.
 *
 * @throws Error for an empty ladder or a non-positive height.
 */
export function transcodeTaskSize(ladder: readonly number[], options: TranscodeSizingOptions = {}): TaskSize {
  if (ladder.length === 0) throw new Error('The transcode ladder needs at least one rung.');
  for (const h of ladder) {
    if (!Number.isInteger(h) || h <= 0 || h > 4320) throw new Error(`Ladder rung height ${h} is not a height in pixels (1–4320).`);
  }
  const vcpuPer1080p = options.vcpuPer1080p ?? 1;
  const memPer1080p = options.memoryPer1080pMiB ?? 640;
  const memPerRendition = options.memoryPerRenditionMiB ?? 128;
  const base = options.baseMemoryMiB ?? 512;
  const weights = ladder.map((h) => (h / 1080) ** 2);
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const vcpus = Math.max(1, Math.ceil(vcpuPer1080p * totalWeight - 1e-9));
  const memory = base + weights.reduce((sum, w) => sum + memPerRendition + memPer1080p * w, 0);
  return { cpu: vcpus * 1024, memory: Math.ceil(memory / 256) * 256 };
}

/** A task that has to be placeable on every instance type of the group. */
