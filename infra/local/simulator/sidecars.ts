/**
 * Sidecars in the simulated tasks: the containers of a task definition after its app
 * container run in the same task. Each writes to its own awslogs stream and shows in
 * DescribeTasks, the task events, `GET /_local/resources` and the environment's page. An image
 * tagged `fail-start*` exits at start with code 1: an essential container stops the task
 * (EssentialContainerExited, as ECS does: "If the essential parameter of a container is marked as
 * true, and that container fails or stops for any reason, all other containers that are part of
 * the task are stopped", Amazon ECS Developer Guide, task definition parameters, `essential`);
 * a non-essential one stops alone and the app keeps serving.
 */
type Input = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A process killed by SIGTERM exits 128 + 15. */
export const SIGTERM_EXIT_CODE = 143;

export interface SidecarContainer {
  name: string;
  image: string;
  essential: boolean;
  port?: number;
  /** its image is tagged `fail-start*`: it exits at start */
  failsAtStart: boolean;
  lastStatus: 'PENDING' | 'RUNNING' | 'STOPPED';
  exitCode?: number;
  reason?: string;
  /** its awslogs group and stream, `<prefix>/<name>/<task id>` */
  log?: { group: string; stream: string };
}

/** The sidecars of a task: every container of its definition but the app's (`app`), in the definition's order. */
export function sidecarsOf(
  containers: readonly Input[],
  app: Input,
  how: { logOf: (container: Input) => SidecarContainer['log']; failsAtStart: (image: string) => boolean },
): SidecarContainer[] {
  return containers
    .filter((container) => container !== app)
    .map((container) => ({
      name: String(container.name),
      image: String(container.image),
      // ECS: "All tasks must have at least one essential container"; a container is essential unless it says otherwise
      essential: container.essential !== false,
      port: (container.portMappings as Input[] | undefined)?.[0]?.containerPort as number | undefined,
      failsAtStart: how.failsAtStart(String(container.image)),
      lastStatus: 'PENDING' as const,
      log: how.logOf(container),
    }));
}

/** The sidecar is up: the lines it writes when it starts. */
export function startSidecar(sidecar: SidecarContainer): string[] {
  sidecar.lastStatus = 'RUNNING';
  return [`starting ${sidecar.image} (simulated sidecar ${sidecar.name})`, ...(sidecar.failsAtStart ? [] : [`ready${sidecar.port ? ` on localhost:${sidecar.port}` : ''}`])];
}

/** The sidecar exits on its own with code 1: the lines it writes as it goes. */
export function crashSidecar(sidecar: SidecarContainer): string[] {
  sidecar.lastStatus = 'STOPPED';
  sidecar.exitCode = 1;
  sidecar.reason = undefined;
  return [`fatal: ${sidecar.name} could not start (simulated fail-start image ${sidecar.image})`, 'exiting with code 1'];
}

/**
 * The task stops: its running sidecars get SIGTERM and die of it, exit 143 (128 + 15), as most
 * images do that do not trap it (StopTask: "the equivalent of docker stop ... SIGTERM", Amazon ECS
 * API Reference; an essential container's exit stops the others the same way, Amazon ECS
 * Developer Guide, task definition parameters, `essential`). One that never ran has no exit code.
 */
export function stopSidecars(sidecars: readonly SidecarContainer[]): void {
  for (const sidecar of sidecars) {
    if (sidecar.lastStatus === 'RUNNING') sidecar.exitCode = SIGTERM_EXIT_CODE;
    sidecar.lastStatus = 'STOPPED';
  }
}

/** DescribeTasks' and the task events' `containers` entries of the sidecars. */
export function sidecarOutputs(sidecars: readonly SidecarContainer[], containerArn: (name: string) => string, base: Input): Input[] {
  return sidecars.map((sidecar) => ({
    ...base,
    containerArn: containerArn(sidecar.name),
    name: sidecar.name,
    image: sidecar.image,
    lastStatus: sidecar.lastStatus,
    exitCode: sidecar.exitCode,
    reason: sidecar.reason,
  }));
}
