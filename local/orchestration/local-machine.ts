/**
 * Runs a state machine definition on this machine with aws-local-stepfunctions (docs/design.md §7): the
 * same ASL the deployment creates, with each Task state bound by name to a local function.
 * Reports how the execution ended and the state the `Fail` state saw, so a caller can say which
 * stage failed and why.
 */
import { StateMachine } from "aws-local-stepfunctions";

/** A state's JSON (the library does not export its own name for it). */
// biome-ignore lint/suspicious/noExplicitAny: JSON values crossing the interpreter are untyped
export type JSONValue = any;

export type TaskBinding = (input: JSONValue) => Promise<JSONValue>;

export interface LocalExecution {
  readonly status: "SUCCEEDED" | "FAILED";
  readonly output: JSONValue | null;
  readonly error?: string;
  readonly cause?: string;
  /** The input of the state that ended the execution (`Fail` or `Succeed`): the run's report. */
  readonly finalState: JSONValue | null;
  /** Retries the execution made, by task state name. */
  readonly retries: ReadonlyMap<string, number>;
}

/**
 * What happened to a state outside a Map iteration (a top-level state, or one in a Parallel
 * branch), from the interpreter's event log, as it happens: so a caller can print each stage's
 * start and end. A failure that a `Retry` handles is `failed` then `retried`; one a `Catch`
 * handles is `failed`, `caught`, then `exited`; one nothing handles is `failed` alone, and the
 * enclosing state fails next.
 */
export interface StateEvent {
  readonly type: "entered" | "exited" | "failed" | "retried" | "caught";
  /** The state's name (`TASK.plan`, `Ingest`, ...) and type (`Task`, `Map`, ...). */
  readonly state: string;
  readonly stateType: string;
  /** Milliseconds since the epoch, when the interpreter logged it. */
  readonly at: number;
  /** `failed`: the error's name and its cause (a thrown error's message). */
  readonly error?: string;
  readonly cause?: string;
}

const STATE_EVENTS = {
  StateEntered: "entered",
  StateExited: "exited",
  StateFailed: "failed",
  StateRetried: "retried",
  StateCaught: "caught",
} as const;

/** The context object's ids (`$$.Execution.Id`, `$$.StateMachine.Id`) of a local execution. */
export interface LocalContext {
  readonly executionArn: string;
  readonly stateMachineArn: string;
}

export const LOCAL_STATE_MACHINE_ARN = "arn:aws:states:local:000000000000:stateMachine:lakehouse-local";

export async function executeLocally(
  definition: Record<string, unknown>,
  input: JSONValue,
  bindings: Readonly<Record<string, TaskBinding>>,
  /** Milliseconds between retries, by state name, instead of the definition's backoff (tests). */
  retryIntervals?: Readonly<Record<string, number>>,
  context: LocalContext = {
    executionArn: `${LOCAL_STATE_MACHINE_ARN.replace(":stateMachine:", ":execution:")}:${crypto.randomUUID()}`,
    stateMachineArn: LOCAL_STATE_MACHINE_ARN,
  },
  /** Told of every state outside a Map iteration as it enters, fails, retries and exits. */
  onState?: (event: StateEvent) => void,
): Promise<LocalExecution> {
  const machine = new StateMachine(definition as never, {});
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers: bindings, retryIntervalOverrides: retryIntervals },
    context: {
      Execution: { Id: context.executionArn, Input: input, StartTime: new Date().toISOString() },
      StateMachine: { Id: context.stateMachineArn },
    } as never,
  });
  let finalState: JSONValue | null = null;
  const retries = new Map<string, number>();
  const ends = new Set(
    Object.entries(definition.States as Record<string, { Type: string }>)
      .filter(([, s]) => s.Type === "Fail" || s.Type === "Succeed")
      .map(([name]) => name),
  );
  const watch = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === "StateEntered" && event.index === undefined && ends.has(event.state.name))
        finalState = event.state.input;
      if (event.type === "StateRetried")
        retries.set(event.state.name, (retries.get(event.state.name) ?? 0) + 1);
      if (onState && "state" in event && event.index === undefined)
        onState({
          type: STATE_EVENTS[event.type],
          state: event.state.name,
          stateType: event.state.type,
          at: event.timestamp,
          ...(event.type === "StateFailed" && { error: String(event.Error), cause: causeText(event.Cause) }),
        });
    }
  })();
  try {
    const output = await execution.result;
    await watch;
    return { status: "SUCCEEDED", output, finalState, retries };
  } catch (error) {
    await watch.catch(() => undefined);
    const cause = (error as { cause?: { name?: string; message?: string } }).cause;
    return {
      status: "FAILED",
      output: null,
      error: cause?.name ?? (error as Error).name,
      cause: cause?.message ?? (error as Error).message,
      finalState,
      retries,
    };
  }
}

/** A failure's cause as text: a thrown error's message, or whatever else was thrown. */
function causeText(cause: unknown): string {
  if (typeof cause === "string") return cause;
  if (cause instanceof Error) return cause.message;
  return JSON.stringify(cause) ?? String(cause);
}
