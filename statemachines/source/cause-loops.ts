/**
 * Errors that only their Cause tells apart, and that are worth waiting out. Retry can match only
 * the error name (AWS docs "Handling errors in Step Functions workflows",
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html); a Choice can
 * read the Cause (StringMatches with `*` wildcards, "Choice workflow state"). So such a step gets
 * a Catch of the error into a Choice: a Cause of the kind waits (a random number of seconds,
 * States.MathRandom: executions do not come back in lockstep) and calls the step again, at most
 * `tries` times per step and execution (counted at `$.<counter>.<step>.tries`, States.MathAdd);
 * any other error of that name goes at once where the step's own Catch sends it, the error where
 * that Catch puts it.
 *
 * - ECS's ClientException throttles: "Received throttling error when describing target group
 *   <arn>" (CreateService/UpdateService with a load balancer: ECS describing the target group for
 *   you was throttled) and "Too many concurrent attempts to create a new revision of the specified
 *   family" (RegisterTaskDefinition). Every step whose Retry names `ecsClientRetry` (the marker)
 *   gets this loop instead: a Retry of `Ecs.ClientException` gave a throttle ~14 s and a real client
 *   error as long (docs/design.md "ECS ClientException trade-off").
 * - A draining name at CreateService: ECS refuses it with InvalidParameterException "Unable to Start
 *   a service that is still Draining." (Amazon ECS API Reference, CreateService). PlanResources
 *   waits a DRAINING service out before a create, but its DescribeServices is eventually consistent
 *   and can miss one; every CreateService waits it out here too, as long as serviceStillDrainingRetry
 *   waits in PlanResources and FinishTeardown (about 10 minutes).
 */
import type { Json, Retrier, State, States } from './asl.ts';
import { ecsClientRetry, serviceStillDrainingRetry } from './retry-policies.ts';

interface CauseLoop {
  /** the error caught, and the part of the state names of its loop */
  error: string;
  name: string;
  /** Cause patterns (StringMatches) of the errors worth waiting out */
  causes: string[];
  tries: number;
  /** States.MathRandom(min, max): a wait of min..max-1 seconds */
  wait: [number, number];
  /** where the caught error is kept, and the counters of every step */
  caught: string;
  counters: string;
  /** the suffixes of its states besides the Choice: the first count, each count, the Wait */
  first: string;
  again: string;
  waitSuffix: string;
  why: string;
}

/** ECS's ClientException throttles: 30 waits of 2..9 s, about 3 minutes. */
export const CLIENT_THROTTLES: CauseLoop = {
  error: 'Ecs.ClientException',
  name: 'Client',
  causes: ['*hrottl*', '*oo many concurrent*', '*Rate exceeded*'],
  tries: 30,
  wait: [2, 10],
  caught: '$.ecsClientError',
  counters: '$.ecsClientThrottles',
  first: 'FirstClientThrottle',
  again: 'ClientThrottled',
  waitSuffix: 'ClientThrottleWait',
  why: 'a throttle (its Cause says so) calls it again after a short wait',
};

/** A service of this name still draining: waits of 10..19 s, as many as serviceStillDrainingRetry's tries (about 10 minutes). */
export const SERVICE_DRAINING: CauseLoop = {
  error: 'Ecs.InvalidParameterException',
  name: 'InvalidParameter',
  causes: ['*still Draining*'],
  tries: serviceStillDrainingRetry.MaxAttempts,
  wait: [10, 20],
  caught: '$.createServiceError',
  counters: '$.drainingWaits',
  first: 'FirstDrainingWait',
  again: 'StillDraining',
  waitSuffix: 'DrainingWait',
  why: 'a service of this name still draining (PlanResources\' read missed it) is waited out, and the service created',
};

type Catcher = { ErrorEquals: string[]; ResultPath?: string | null; Next: string };

/** The step's own Catch that `error` would meet (named, or States.ALL). */
function ownCatcher(name: string, state: State, error: string): Catcher {
  const catcher = ((state.Catch ?? []) as Catcher[]).find((c) => c.ErrorEquals.includes(error) || c.ErrorEquals.includes('States.ALL'));
  if (!catcher) throw new Error(`${name}: a step with a Catch of ${error} into a Choice needs its own Catch for the other ${error}s`);
  return catcher;
}

/** `name`'s loop for `loop.error`: the Catch to put first, and the Choice, the counter, the wait and the way out. */
function causeLoop(name: string, state: State, loop: CauseLoop): { catcher: Json; states: States } {
  const failure = ownCatcher(name, state, loop.error);
  const counter = `${loop.counters}.${name}`;
  const choice = `${name}${loop.name}Exception`;
  const failed = `${name}${loop.name}Failed`;
  const first = `${name}${loop.first}`;
  const again = `${name}${loop.again}`;
  const wait = `${name}${loop.waitSuffix}`;
  const matches = { Or: loop.causes.map((pattern) => ({ Variable: `${loop.caught}.Cause`, StringMatches: pattern })) };
  return {
    catcher: { ErrorEquals: [loop.error], ResultPath: loop.caught, Next: choice },
    states: {
      [choice]: {
        Type: 'Choice',
        Comment: `${loop.error} at ${name}: ${loop.why}, at most ${loop.tries} times; any other fails at once.`,
        Choices: [
          { Not: { Variable: `${loop.caught}.Cause`, IsPresent: true }, Next: failed },
          { Not: matches, Next: failed },
          { Not: { Variable: counter, IsPresent: true }, Next: first },
          { Variable: `${counter}.tries`, NumericLessThan: loop.tries, Next: again },
        ],
        Default: failed,
      },
      [first]: { Type: 'Pass', Result: { tries: 0 }, ResultPath: counter, Next: again },
      [again]: {
        Type: 'Pass',
        Parameters: { 'tries.$': `States.MathAdd(${counter}.tries, 1)`, 'waitSeconds.$': `States.MathRandom(${loop.wait[0]}, ${loop.wait[1]})` },
        ResultPath: counter,
        Next: wait,
      },
      [wait]: { Type: 'Wait', SecondsPath: `${counter}.waitSeconds`, Next: name },
      [failed]: {
        Type: 'Pass',
        Comment: `Not one to wait out: on as ${name}'s own Catch goes, the error where it puts it.`,
        InputPath: loop.caught,
        ...(failure.ResultPath === undefined ? {} : { ResultPath: failure.ResultPath }),
        Next: failure.Next,
      },
    },
  };
}

/** The loops a Task gets: the ClientException one where its Retry names ecsClientRetry, the draining one at every CreateService. */
function loopsOf(state: State): CauseLoop[] {
  if (state.Type !== 'Task') return [];
  return [
    ...(((state.Retry ?? []) as Retrier[]).includes(ecsClientRetry) ? [CLIENT_THROTTLES] : []),
    ...(state.Resource === 'arn:aws:states:::aws-sdk:ecs:createService' ? [SERVICE_DRAINING] : []),
  ];
}

/** `states` with each step's loops (see above) in place of ecsClientRetry. */
export function withCauseLoops(states: States): States {
  return Object.fromEntries(
    Object.entries(states).flatMap(([name, state]) => {
      const loops = loopsOf(state);
      if (loops.length === 0) return [[name, state]];
      const built = loops.map((loop) => causeLoop(name, state, loop));
      const step: State = {
        ...state,
        ...(state.Retry ? { Retry: (state.Retry as Retrier[]).filter((r) => r !== ecsClientRetry) } : {}),
        Catch: [...built.map((b) => b.catcher), ...((state.Catch ?? []) as Json[])],
      };
      return [[name, step], ...built.flatMap((b) => Object.entries(b.states))];
    }),
  );
}
