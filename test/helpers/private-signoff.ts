/**
 * A test file's own PostgreSQL and Redis servers (which it may stop, kill or freeze) and signoff
 * as a real process on them, started before the file's tests and removed after them.
 */
import { afterAll, beforeAll } from "vitest";
import { type SignoffProcess, startSignoffProcess } from "../../bench/chaos-signoff.js";
import { startPrivateServices } from "./private-services.js";

/** The private servers and the signoff process of one test file; set once its `beforeAll` ran. */
export interface PrivateSignoff {
  services: Awaited<ReturnType<typeof startPrivateServices>>;
  signoff: SignoffProcess;
}

/** Start private servers and signoff for the calling test file (call it at the file's top level). */
export function usePrivateSignoff(): PrivateSignoff {
  const chaos = {} as PrivateSignoff;
  beforeAll(async () => {
    chaos.services = await startPrivateServices();
    chaos.signoff = await startSignoffProcess({ postgres: chaos.services.postgres, redis: chaos.services.redis });
  }, 60_000);
  afterAll(async () => {
    await chaos.signoff?.remove();
    await chaos.services?.remove();
  });
  return chaos;
}
