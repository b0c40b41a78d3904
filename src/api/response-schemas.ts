/**
 * The API's error answers as zod schemas. They are declared on the routes like the success
 * answers, so the API document shows them and fastify serialises the real error bodies through
 * them: loose objects, so no field the error handler adds is ever dropped.
 */
import { z } from "zod";

/** One thing wrong with a request: the field to fix and why. */
export const ProblemSchema = z.looseObject({
  path: z.string().describe('The field, dotted ("approvers.quorum"), or "(body)" for the whole body'),
  message: z.string(),
});

/** Every error answer: a machine-readable `error` code and a message safe to show. */
export const ErrorSchema = z
  .looseObject({
    error: z.string().describe("Machine-readable code: unauthorized, not_found, conflict, unavailable, internal…"),
    message: z.string(),
    problems: z.array(ProblemSchema).optional(),
  })
  .describe("An error");

/** `400`: the request failed its schema (or a rule of the route); each problem names a field. */
export const BadRequestSchema = ErrorSchema.extend({ problems: z.array(ProblemSchema) }).describe(
  "The request is invalid; each problem names the field to fix",
);

/** `503` before the app is ready: the port is bound first and answers this until start-up ends. */
export const StartingSchema = z.looseObject({ status: z.literal("starting") });

/**
 * `503`: PostgreSQL or Redis is unreachable (`error: "unavailable"`), the process is stopping,
 * or it is still starting; the `Retry-After` header says when to try again.
 */
export const UnavailableSchema = z
  .union([ErrorSchema, StartingSchema])
  .describe(
    "Unavailable for now (a dependency unreachable, starting or stopping); try again after Retry-After seconds",
  );
