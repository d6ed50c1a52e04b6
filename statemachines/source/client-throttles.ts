/**
 * ECS answers some throttles with `ClientException`, a name it also gives real client errors:
 * "Received throttling error when describing target group <arn>" (CreateService/UpdateService with
 * a load balancer: ECS describing the target group for you was throttled) and "Too many concurrent
 * attempts to create a new revision of the specified family" (RegisterTaskDefinition). Retry can
 * match only the error name (AWS docs "Handling errors in Step Functions workflows",
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html), so a Retry of
 * `Ecs.ClientException` either waits out a real client error too or gives a throttle only seconds.
 *
 * Instead, every step whose Retry names `ecsClientRetry` (the marker) gets a Catch of
 * `Ecs.ClientException` into a Choice that reads the error's Cause (a Choice can: StringMatches
 * with `*` wildcards, "Choice workflow state"): a throttling text waits a random 2..9 s
 * (States.MathRandom: the throttled executions do not come back in lockstep) and calls the step
 * again, at most CLIENT_THROTTLE_TRIES times per step and execution (about 3 minutes, counted in
 * `$.ecsClientThrottles.<step>.tries` with States.MathAdd); any other ClientException goes at once
 * where the step's own Catch sends it, with the error where that Catch puts it.
 */
import type { Json, Retrier, State, States } from './asl.ts';
import { ecsClientRetry } from './retry-policies.ts';

/** The texts of ECS's ClientException throttles ("...throttling error...", "Too many concurrent attempts...", "Rate exceeded"). */
export const CLIENT_THROTTLE_CAUSES = ['*hrottl*', '*oo many concurrent*', '*Rate exceeded*'];
/** Tries of a throttled step after a ClientException throttle: 30 waits of 2..9 s, about 3 minutes. */
export const CLIENT_THROTTLE_TRIES = 30;
/** Where the caught ClientException is kept while the Choice reads it. */
const CAUGHT = '$.ecsClientError';

type Catcher = { ErrorEquals: string[]; ResultPath?: string | null; Next: string };

/** The step's own Catch that a ClientException would meet (named, or States.ALL). */
function ownCatcher(name: string, state: State): Catcher {
  const catcher = ((state.Catch ?? []) as Catcher[]).find((c) => c.ErrorEquals.includes('Ecs.ClientException') || c.ErrorEquals.includes('States.ALL'));
  if (!catcher) throw new Error(`${name}: a step with ecsClientRetry needs a Catch for the ClientExceptions that are not throttles`);
  return catcher;
}

/** `name`'s ClientException loop: its Catch, the Choice, the counter, the wait, and the way out. */
function loop(name: string, state: State): States {
  const failure = ownCatcher(name, state);
  const counter = `$.ecsClientThrottles.${name}`;
  const throttled = { Or: CLIENT_THROTTLE_CAUSES.map((pattern) => ({ Variable: `${CAUGHT}.Cause`, StringMatches: pattern })) };
  const failed = `${name}ClientFailed`;
  return {
    [name]: {
      ...state,
      Retry: (state.Retry as Retrier[]).filter((r) => r !== ecsClientRetry),
      Catch: [{ ErrorEquals: ['Ecs.ClientException'], ResultPath: CAUGHT, Next: `${name}ClientException` }, ...((state.Catch ?? []) as Json[])],
    },
    [`${name}ClientException`]: {
      Type: 'Choice',
      Comment: `A ClientException of ${name}: a throttle (its Cause says so) calls it again after a short wait, at most ${CLIENT_THROTTLE_TRIES} times; any other fails at once (docs/design.md "ECS ClientException trade-off").`,
      Choices: [
        { Not: { Variable: `${CAUGHT}.Cause`, IsPresent: true }, Next: failed },
        { Not: throttled, Next: failed },
        { Not: { Variable: counter, IsPresent: true }, Next: `${name}FirstClientThrottle` },
        { Variable: `${counter}.tries`, NumericLessThan: CLIENT_THROTTLE_TRIES, Next: `${name}ClientThrottled` },
      ],
      Default: failed,
    },
    [`${name}FirstClientThrottle`]: { Type: 'Pass', Result: { tries: 0 }, ResultPath: counter, Next: `${name}ClientThrottled` },
    [`${name}ClientThrottled`]: {
      Type: 'Pass',
      Parameters: { 'tries.$': `States.MathAdd(${counter}.tries, 1)`, 'waitSeconds.$': 'States.MathRandom(2, 10)' },
      ResultPath: counter,
      Next: `${name}ClientThrottleWait`,
    },
    [`${name}ClientThrottleWait`]: { Type: 'Wait', SecondsPath: `${counter}.waitSeconds`, Next: name },
    [failed]: {
      Type: 'Pass',
      Comment: `Not a throttle: on as ${name}'s own Catch goes, the error where it puts it.`,
      InputPath: CAUGHT,
      ...(failure.ResultPath === undefined ? {} : { ResultPath: failure.ResultPath }),
      Next: failure.Next,
    },
  };
}

/** `states` with every step whose Retry names ecsClientRetry turned into its ClientException loop. */
export function withClientThrottleLoops(states: States): States {
  return Object.fromEntries(
    Object.entries(states).flatMap(([name, state]) =>
      state.Type === 'Task' && ((state.Retry ?? []) as Retrier[]).includes(ecsClientRetry) ? Object.entries(loop(name, state)) : [[name, state]],
    ),
  );
}
