/**
 * Shutdown in bounded steps: a dependency that hangs (Redis down, a receiver that never
 * answers) cannot keep the process from exiting within its deadline; what is cut off is retried
 * later from PostgreSQL.
 */

/** Runs shutdown steps against one overall deadline. */
export interface ShutdownSteps {
  /** Run `work`, giving up on it (logged) after `ms` or when the overall deadline comes first. */
  step(what: string, ms: number, work: () => Promise<unknown>): Promise<void>;
}

/** Steps that together finish within `totalMs`. */
export function createShutdownSteps(totalMs: number, logger: { warn(o: object, m?: string): void }): ShutdownSteps {
  const deadline = Date.now() + totalMs;
  return {
    async step(what, ms, work) {
      const limit = Math.max(100, Math.min(ms, deadline - Date.now()));
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), limit);
      });
      try {
        const outcome = await Promise.race([work().then(() => "done" as const), late]);
        if (outcome === "late")
          logger.warn({ step: what, ms: limit }, "shutdown step did not finish in time; going on");
      } catch (error) {
        logger.warn({ step: what, err: (error as Error).message }, "shutdown step failed; going on");
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
