/**
 * Pure sizing logic for the ECS-on-spot cluster: instance type facts, the
 * transcode ladder → task size math, placement checks, and queue/heartbeat
 * timing rules. Nothing here touches Pulumi, so it is unit-tested directly
 * (test/infra/sizing.test.ts) and `infra/index.ts` calls it to validate stack
 * config before declaring any resource.
 */

/** CPU architecture of an instance type, as the ECS-optimized AMI parameters name it. */
export type Architecture = 'x86_64' | 'arm64';

/** Facts about one EC2 instance type that placement depends on. */
export interface InstanceTypeSpec {
  /** vCPUs. ECS registers 1024 CPU units per vCPU. */
  vcpu: number;
  /** Nominal memory, MiB. */
  memoryMiB: number;
  /** Maximum network interfaces (ENIs), including the primary one. */
  maxEnis: number;
  architecture: Architecture;
  /** Burstable (T family): CPU credits make sustained transcoding slow or costly. */
  burstable?: boolean;
}

const GiB = 1024;

/**
 * Instance types this stack knows how to place tasks on. Values from the EC2
 * instance type documentation ("Amazon EC2 instance types" → specifications,
 * and "Maximum IP addresses per network interface" for ENI counts). Add a row
 * to use another type; unknown types are rejected rather than guessed at.
 */
export const INSTANCE_TYPES: Readonly<Record<string, InstanceTypeSpec>> = {
  't3.medium': { vcpu: 2, memoryMiB: 4 * GiB, maxEnis: 3, architecture: 'x86_64', burstable: true },
  't3.large': { vcpu: 2, memoryMiB: 8 * GiB, maxEnis: 3, architecture: 'x86_64', burstable: true },
  'c5.large': { vcpu: 2, memoryMiB: 4 * GiB, maxEnis: 3, architecture: 'x86_64' },
  'c5.xlarge': { vcpu: 4, memoryMiB: 8 * GiB, maxEnis: 4, architecture: 'x86_64' },
  'c5a.large': { vcpu: 2, memoryMiB: 4 * GiB, maxEnis: 3, architecture: 'x86_64' },
  'c5a.xlarge': { vcpu: 4, memoryMiB: 8 * GiB, maxEnis: 4, architecture: 'x86_64' },
  'c6i.large': { vcpu: 2, memoryMiB: 4 * GiB, maxEnis: 3, architecture: 'x86_64' },
  'c6i.xlarge': { vcpu: 4, memoryMiB: 8 * GiB, maxEnis: 4, architecture: 'x86_64' },
  'c6i.2xlarge': { vcpu: 8, memoryMiB: 16 * GiB, maxEnis: 4, architecture: 'x86_64' },
  'c6a.large': { vcpu: 2, memoryMiB: 4 * GiB, maxEnis: 3, architecture: 'x86_64' },
  'c6a.xlarge': { vcpu: 4, memoryMiB: 8 * GiB, maxEnis: 4, architecture: 'x86_64' },
  'c7i.large': { vcpu: 2, memoryMiB: 4 * GiB, maxEnis: 3, architecture: 'x86_64' },
  'c7i.xlarge': { vcpu: 4, memoryMiB: 8 * GiB, maxEnis: 4, architecture: 'x86_64' },
  'c7a.large': { vcpu: 2, memoryMiB: 4 * GiB, maxEnis: 3, architecture: 'x86_64' },
  'm5.large': { vcpu: 2, memoryMiB: 8 * GiB, maxEnis: 3, architecture: 'x86_64' },
  'm5.xlarge': { vcpu: 4, memoryMiB: 16 * GiB, maxEnis: 4, architecture: 'x86_64' },
  'm6i.large': { vcpu: 2, memoryMiB: 8 * GiB, maxEnis: 3, architecture: 'x86_64' },
  'm6i.xlarge': { vcpu: 4, memoryMiB: 16 * GiB, maxEnis: 4, architecture: 'x86_64' },
  'm6a.large': { vcpu: 2, memoryMiB: 8 * GiB, maxEnis: 3, architecture: 'x86_64' },
  'm7i.large': { vcpu: 2, memoryMiB: 8 * GiB, maxEnis: 3, architecture: 'x86_64' },
  'c6g.large': { vcpu: 2, memoryMiB: 4 * GiB, maxEnis: 3, architecture: 'arm64' },
  'c6g.xlarge': { vcpu: 4, memoryMiB: 8 * GiB, maxEnis: 4, architecture: 'arm64' },
  'c7g.large': { vcpu: 2, memoryMiB: 4 * GiB, maxEnis: 3, architecture: 'arm64' },
  'c7g.xlarge': { vcpu: 4, memoryMiB: 8 * GiB, maxEnis: 4, architecture: 'arm64' },
  'm6g.large': { vcpu: 2, memoryMiB: 8 * GiB, maxEnis: 3, architecture: 'arm64' },
  'm7g.large': { vcpu: 2, memoryMiB: 8 * GiB, maxEnis: 3, architecture: 'arm64' },
};

/** Looks up an instance type. @throws Error naming the known types when it is not in {@link INSTANCE_TYPES}. */
export function instanceSpec(instanceType: string): InstanceTypeSpec {
  const spec = INSTANCE_TYPES[instanceType];
  if (!spec) {
    throw new Error(
      `Unknown instance type "${instanceType}". Known: ${Object.keys(INSTANCE_TYPES).join(', ')} (add it to INSTANCE_TYPES in infra/sizing.ts).`,
    );
  }
  return spec;
}

/** CPU units and memory one ECS task reserves. */
export interface TaskSize {
  /** CPU units (1024 = one vCPU). */
  cpu: number;
  /** Hard memory limit, MiB. */
  memory: number;
}

/**
 * Memory (MiB) the ECS agent registers for tasks on an instance: less than the
 * nominal memory, since the OS, Docker and the agent use some. ECS developer
 * guide, "Container instance memory management": a 4 GiB instance registers
 * roughly 3.7–3.8 GiB. 90 % of nominal is a deliberately safe estimate.
 */
export function registeredMemoryMiB(spec: InstanceTypeSpec): number {
  return Math.floor(spec.memoryMiB * 0.9);
}

/** CPU units the ECS agent registers for tasks: 1024 per vCPU (ECS developer guide, task definition parameters → cpu). */
export function registeredCpuUnits(spec: InstanceTypeSpec): number {
  return spec.vcpu * 1024;
}

/**
 * How many `awsvpc` tasks one instance can run: each task takes its own ENI,
 * and the primary ENI belongs to the instance (ECS developer guide, "Amazon
 * ECS task networking options for EC2" → ENI limits; trunking raises this but
 * needs the account setting `awsvpcTrunking`). The other bounds are registered
 * CPU and memory.
 */
export function awsvpcTasksPerInstance(spec: InstanceTypeSpec, task: TaskSize): number {
  return Math.max(
    0,
    Math.min(
      spec.maxEnis - 1,
      Math.floor(registeredCpuUnits(spec) / task.cpu),
      Math.floor(registeredMemoryMiB(spec) / task.memory),
    ),
  );
}

/** Knobs for {@link transcodeTaskSize}; the defaults suit libx264 `veryfast` one-pass ladders. */
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
export interface PlacedTask {
  name: string;
  size: TaskSize;
}

/**
 * Checks the instance types of the Auto Scaling group against the tasks:
 * every type is known, all share one architecture (one AMI and one image
 * platform serve the whole group), and every task fits on every type (ECS
 * managed scaling may launch any of them, so a task that fits only some would
 * sit in PROVISIONING). Burstable types are refused: sustained transcoding
 * would run out of CPU credits.
 *
 * @returns the shared architecture.
 * @throws Error listing every problem found.
 */
export function validateInstanceTypes(instanceTypes: readonly string[], tasks: readonly PlacedTask[]): Architecture {
  if (instanceTypes.length === 0) throw new Error('Set at least one instance type (vod:instanceTypes).');
  const problems: string[] = [];
  const specs: [string, InstanceTypeSpec][] = [];
  for (const t of instanceTypes) {
    try {
      specs.push([t, instanceSpec(t)]);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  const archs = new Set(specs.map(([, s]) => s.architecture));
  if (archs.size > 1) {
    problems.push(`Instance types mix architectures (${[...archs].join(', ')}); use one architecture for the group.`);
  }
  for (const [type, spec] of specs) {
    if (spec.burstable) problems.push(`${type} is burstable; use a non-T family for sustained transcoding.`);
    for (const task of tasks) {
      if (awsvpcTasksPerInstance(spec, task.size) < 1) {
        problems.push(
          `${task.name} (${task.size.cpu} CPU units, ${task.size.memory} MiB) does not fit on ${type} ` +
            `(${registeredCpuUnits(spec)} CPU units, ~${registeredMemoryMiB(spec)} MiB registered).`,
        );
      }
    }
  }
  if (problems.length > 0) throw new Error(`Invalid cluster sizing:\n  - ${problems.join('\n  - ')}`);
  return specs[0]![1].architecture;
}

/**
 * SSM public parameter holding the current ECS-optimized Amazon Linux 2023 AMI
 * id (ECS developer guide, "Retrieving Amazon ECS-optimized Linux AMI
 * metadata").
 */
export function ecsAmiParameter(arch: Architecture): string {
  return arch === 'arm64'
    ? '/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id'
    : '/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id';
}

/** Docker platform string for images that run on `arch`. */
export function dockerPlatform(arch: Architecture): string {
  return arch === 'arm64' ? 'linux/arm64' : 'linux/amd64';
}

/**
 * User data (plain text, before base64) for ECS container instances. Writes
 * the agent config (ECS developer guide, "Amazon ECS container agent
 * configuration"):
 * - `ECS_CLUSTER`: join this cluster.
 * - `ECS_ENABLE_SPOT_INSTANCE_DRAINING=true`: on a spot interruption notice
 *   the instance goes DRAINING and tasks are stopped and replaced elsewhere.
 * - `ECS_AWSVPC_BLOCK_IMDS=true`: `awsvpc` tasks cannot reach the instance
 *   metadata service, so no task can borrow the instance role.
 * - `ECS_CONTAINER_STOP_TIMEOUT`: default grace between SIGTERM and SIGKILL
 *   for containers without their own `stopTimeout`.
 */
export function ecsUserData(clusterName: string, stopTimeoutSeconds: number): string {
  return [
    '#!/bin/bash',
    'set -euo pipefail',
    "cat >> /etc/ecs/ecs.config <<'EOF'",
    `ECS_CLUSTER=${clusterName}`,
    'ECS_ENABLE_SPOT_INSTANCE_DRAINING=true',
    'ECS_AWSVPC_BLOCK_IMDS=true',
    `ECS_CONTAINER_STOP_TIMEOUT=${stopTimeoutSeconds}s`,
    'ECS_ENABLE_CONTAINER_METADATA=true',
    'EOF',
    '',
  ].join('\n');
}

/** Capacity bounds of the Auto Scaling group and the spot/on-demand split. */
export interface CapacityBounds {
  minSize: number;
  maxSize: number;
  /** On-demand instances kept below the spot capacity (0 = all spot). */
  onDemandBase: number;
}

/**
 * Validates ASG bounds against the services' task counts.
 * @throws Error if min > max, onDemandBase > max, or max cannot hold the
 *   always-on tasks plus one transcode task.
 */
export function validateCapacity(bounds: CapacityBounds, minInstancesNeeded: number): void {
  const problems: string[] = [];
  if (bounds.minSize < 0 || bounds.maxSize < 1) problems.push('minSize must be ≥ 0 and maxSize ≥ 1.');
  if (bounds.minSize > bounds.maxSize) problems.push(`minSize ${bounds.minSize} > maxSize ${bounds.maxSize}.`);
  if (bounds.onDemandBase < 0 || bounds.onDemandBase > bounds.maxSize) {
    problems.push(`onDemandBase ${bounds.onDemandBase} must be between 0 and maxSize ${bounds.maxSize}.`);
  }
  if (bounds.maxSize < minInstancesNeeded) {
    problems.push(`maxSize ${bounds.maxSize} cannot hold the services (needs ≥ ${minInstancesNeeded} instances).`);
  }
  if (problems.length > 0) throw new Error(`Invalid capacity bounds:\n  - ${problems.join('\n  - ')}`);
}

/**
 * Smallest number of instances (of the smallest type in the group) that holds
 * the always-on services plus `transcodeTasks` transcode tasks, by first-fit
 * decreasing bin packing on CPU, memory and ENIs.
 */
export function instancesNeeded(
  instanceType: InstanceTypeSpec,
  tasks: readonly TaskSize[],
): number {
  const bins: { cpu: number; mem: number; enis: number }[] = [];
  const sorted = [...tasks].sort((a, b) => b.cpu - a.cpu || b.memory - a.memory);
  for (const t of sorted) {
    const bin = bins.find((b) => b.cpu >= t.cpu && b.mem >= t.memory && b.enis >= 1);
    if (bin) {
      bin.cpu -= t.cpu;
      bin.mem -= t.memory;
      bin.enis -= 1;
    } else {
      if (awsvpcTasksPerInstance(instanceType, t) < 1) return Number.POSITIVE_INFINITY;
      bins.push({
        cpu: registeredCpuUnits(instanceType) - t.cpu,
        mem: registeredMemoryMiB(instanceType) - t.memory,
        enis: instanceType.maxEnis - 2,
      });
    }
  }
  return bins.length;
}

/** The smallest instance type of a list, by registered CPU then memory. */
export function smallestInstanceType(instanceTypes: readonly string[]): InstanceTypeSpec {
  return instanceTypes
    .map(instanceSpec)
    .sort((a, b) => a.vcpu - b.vcpu || a.memoryMiB - b.memoryMiB || a.maxEnis - b.maxEnis)[0]!;
}

/** Retention periods CloudWatch Logs accepts, days (CloudWatch Logs API, PutRetentionPolicy). */
export const LOG_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** @throws Error unless `days` is one of {@link LOG_RETENTION_DAYS}. */
export function assertLogRetentionDays(days: number): number {
  if (!LOG_RETENTION_DAYS.includes(days)) {
    throw new Error(`vod:logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(', ')} (got ${days}).`);
  }
  return days;
}

/** CloudFront price classes (CloudFront developer guide, "Choose the price class for a CloudFront distribution"). */
export const PRICE_CLASSES = ['PriceClass_100', 'PriceClass_200', 'PriceClass_All'] as const;
export type PriceClass = (typeof PRICE_CLASSES)[number];

/** @throws Error unless `value` is a CloudFront price class. */
export function assertPriceClass(value: string): PriceClass {
  if (!(PRICE_CLASSES as readonly string[]).includes(value)) {
    throw new Error(`vod:priceClass must be one of ${PRICE_CLASSES.join(', ')} (got ${value}).`);
  }
  return value as PriceClass;
}
