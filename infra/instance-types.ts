/**
 * The EC2 instance types the spot group may use, and what ECS can place on
 * one: values from the EC2 instance type documentation ("Amazon EC2 instance
 * types" → specifications, "Maximum IP addresses per network interface").
 * Add a row to use another type; unknown types are rejected, not guessed at.
 */
import type { TaskSize } from './task-sizing.js';

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
      `Unknown instance type "${instanceType}". Known: ${Object.keys(INSTANCE_TYPES).join(', ')} (add it to INSTANCE_TYPES in infra/instance-types.ts).`,
    );
  }
  return spec;
}

/** CPU units and memory one ECS task reserves. */
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
