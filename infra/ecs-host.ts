/** What an ECS container instance boots with: the AMI parameter, the image platform, the agent's user data. */
import type { Architecture } from './instance-types.js';

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
