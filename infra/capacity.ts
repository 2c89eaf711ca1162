/** Checks of the spot group against the tasks it must hold: placement on every type, bounds, bin packing. */
import { awsvpcTasksPerInstance, instanceSpec, registeredCpuUnits, registeredMemoryMiB, type Architecture, type InstanceTypeSpec } from './instance-types.js';
import type { TaskSize } from './task-sizing.js';

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
