/**
 * ECS task scale-in protection: while a worker runs a task, ECS must not
 * stop it to scale in (the capacity provider and service autoscaling honour
 * protected tasks). The ECS agent serves the endpoint at `$ECS_AGENT_URI`
 * (ECS developer guide, "Protect your Amazon ECS tasks from being terminated
 * by scale-in events"; the task role needs `ecs:UpdateTaskProtection`).
 * Where there is no agent (`npm start`), there is nothing to protect.
 */
import type { Logger } from 'pino';

export interface TaskProtection {
  /** Protects the task for up to `minutes` (renewed by the next call). */
  hold(minutes: number): Promise<void>;
  release(): Promise<void>;
}

export function ecsTaskProtection(agentUri: string | undefined, log: Logger, fetchFn: typeof fetch = fetch): TaskProtection {
  if (!agentUri) return { hold: async () => {}, release: async () => {} };
  const put = async (body: object) => {
    try {
      const res = await fetchFn(`${agentUri}/task-protection/v1/state`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) log.warn({ status: res.status, body: await res.text() }, 'task protection request refused');
    } catch (err) {
      log.warn({ err }, 'task protection request failed');
    }
  };
  return {
    hold: (minutes) => put({ ProtectionEnabled: true, ExpiresInMinutes: Math.max(1, Math.ceil(minutes)) }),
    release: () => put({ ProtectionEnabled: false }),
  };
}
