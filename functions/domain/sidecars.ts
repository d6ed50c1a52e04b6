/**
 * Sidecars: more containers in the environment's task, next to `app`. The rules a
 * spec's sidecars follow beyond each one's own schema (functions/domain/environment-spec.ts
 * `sidecarSchema`): names and ports across the task. Pure.
 */
/** At most this many sidecars: a preview's task stays small enough to start quickly and to read. */
export const MAX_SIDECARS = 5;

/** A container name ECS accepts (up to 255 letters, digits, hyphens, underscores) narrowed to DNS-like names: the awslogs stream is `fledge/<name>/<task id>`. */
export const SIDECAR_NAME_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;

/** The app's container name (functions/domain/resource-plan.ts CONTAINER_NAME), which no sidecar may take. */
export const APP_CONTAINER = 'app';

/**
 * Each sidecar's soft memory reservation (ECS `memoryReservation`, MiB). A sidecar may use more
 * when the task has it; the reservation only keeps the task's memory from being promised twice:
 * "The resource limits must be greater than or equal to any reservations that you declared"
 * (Amazon ECS Developer Guide, "Choosing Fargate task sizes for Amazon ECS"). 128 MiB holds an
 * idle Postgres, Redis or a mock server.
 */
export const SIDECAR_MEMORY_RESERVATION_MIB = 128;

/** What the task keeps for the app beyond the sidecars' reservations. */
export const MIN_APP_MEMORY_MIB = 256;

/** The least task memory that holds the app and `sidecars` sidecars. */
export function taskMemoryNeeded(sidecars: number): number {
  return MIN_APP_MEMORY_MIB + sidecars * SIDECAR_MEMORY_RESERVATION_MIB;
}

/** A problem at a path of the spec (a zod issue's path). */
export interface SpecProblem {
  path: (string | number)[];
  message: string;
}

interface SidecarPorts {
  name: string;
  port?: number | undefined;
}

/**
 * Names and ports across the task: `app` is the app's, names are unique, and ports differ from
 * the app's and each other's, because "tasks that use the awsvpc network mode ... containers
 * that belong to the same task can communicate over the localhost interface" (Amazon ECS
 * Developer Guide, "Amazon ECS task networking options for Fargate"): one network namespace,
 * so two containers cannot listen on one port.
 */
export function sidecarProblems(sidecars: readonly SidecarPorts[], appPort: number): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const names = new Map<string, number>();
  const ports = new Map<number, string>([[appPort, 'the app\'s port']]);
  sidecars.forEach((sidecar, index) => {
    if (sidecar.name === APP_CONTAINER) {
      problems.push({ path: ['sidecars', index, 'name'], message: `"${APP_CONTAINER}" is the app's container` });
    } else if (names.has(sidecar.name)) {
      problems.push({ path: ['sidecars', index, 'name'], message: `sidecars.${names.get(sidecar.name)} has this name already` });
    } else {
      names.set(sidecar.name, index);
    }
    if (sidecar.port === undefined) return;
    const taken = ports.get(sidecar.port);
    if (taken) {
      problems.push({ path: ['sidecars', index, 'port'], message: `${sidecar.port} is ${taken}; the containers of a task share one network namespace` });
    } else {
      ports.set(sidecar.port, `sidecars.${index}'s port`);
    }
  });
  return problems;
}
