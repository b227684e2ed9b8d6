import { z } from 'zod';

const probability = z.number().min(0).max(1);

/** What to inject into API calls of one method. */
export const faultSchema = z
  .object({
    latencyMs: z.number().min(0).max(120_000).default(0),
    latencyJitterMs: z.number().min(0).max(120_000).default(0),
    error500: probability.default(0),
    error503: probability.default(0),
    error429: probability.default(0),
    retryAfterSeconds: z.number().int().min(0).max(3600).default(1),
    drop: probability.default(0),
    times: z.number().int().positive().nullable().default(null),
  })
  .strict()
  .refine((fault) => fault.error500 + fault.error503 + fault.error429 + fault.drop <= 1, {
    message: 'error500 + error503 + error429 + drop must not exceed 1',
  });

export type Fault = z.infer<typeof faultSchema>;

export const faultSetSchema = z.partialRecord(z.enum(['*', 'GET', 'POST', 'PATCH', 'DELETE']), faultSchema);

export type FaultSet = z.infer<typeof faultSetSchema>;

/** The fault chosen for one request. */
export interface InjectedFault {
  delayMs: number;
  outcome: 'none' | 'error500' | 'error503' | 'error429' | 'drop';
  retryAfterSeconds: number;
}

/**
 * Fault injection per method (`*` for all, a method's own entry wins). An entry with `times`
 * expires once it has injected that many faults, so a test can fail exactly the next N calls.
 */
export class FaultInjector {
  #faults: FaultSet = {};
  readonly #random: () => number;

  public constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  public get current(): FaultSet {
    return structuredClone(this.#faults);
  }

  public set(faults: FaultSet): void {
    this.#faults = structuredClone(faults);
  }

  public clear(): void {
    this.#faults = {};
  }

  public pick(method: string): InjectedFault {
    const key = method in this.#faults ? (method as keyof FaultSet) : '*';
    const fault = this.#faults[key];
    if (!fault) return { delayMs: 0, outcome: 'none', retryAfterSeconds: 0 };
    const delayMs = fault.latencyMs + fault.latencyJitterMs * this.#random();
    const outcome = this.#rollOutcome(fault);
    if (fault.times !== null && (delayMs > 0 || outcome !== 'none')) {
      fault.times -= 1;
      if (fault.times === 0) delete this.#faults[key];
    }
    return { delayMs, outcome, retryAfterSeconds: fault.retryAfterSeconds };
  }

  #rollOutcome(fault: Fault): InjectedFault['outcome'] {
    let roll = this.#random();
    for (const outcome of ['drop', 'error500', 'error503', 'error429'] as const) {
      if (roll < fault[outcome]) return outcome;
      roll -= fault[outcome];
    }
    return 'none';
  }
}
