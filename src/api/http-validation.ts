/**
 * Request validation for every route that declares zod schemas: a request that fails its schema
 * becomes the API's one `400 { error: "invalid_body", message, problems: [{ path, message }] }`,
 * each problem naming the field the caller must fix.
 */
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifySchemaCompiler,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { z } from "zod";
import { AppError } from "../domain/errors.js";

/** A zod error as the API reports it: `[{ path: "approvers.quorum", message }]`. */
export function toProblems(error: z.ZodError): Array<{ path: string; message: string }> {
  const at = (path: PropertyKey[]) => (path.length ? path.map(String).join(".") : "(body)");
  return error.issues.flatMap((issue) =>
    // An unknown key is reported at its own path, so clients see which field to remove.
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({ path: at([...issue.path, key]), message: "unknown field" }))
      : [{ path: at(issue.path), message: issue.message }],
  );
}

/** How the `message` names the part of the request that was refused. */
const PART: Record<string, string> = { body: "body", querystring: "query", params: "params", headers: "headers" };

/**
 * The validator compiler (`app.setValidatorCompiler`): parses each request part with its zod
 * schema and hands the handler the parsed value, or fails the request with an `invalid_body`
 * {@link AppError} carrying every problem.
 */
export const validatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema, httpPart }) =>
  (data) => {
    // A request without a body is read as `{}`, so callers learn which fields are required
    // rather than that "the body" is missing (fastify hands an absent body over as null).
    const parsed = schema.safeParse(httpPart === "body" ? (data ?? {}) : data);
    if (parsed.success) return { value: parsed.data };
    const part = PART[httpPart ?? "body"] ?? httpPart;
    return {
      error: new AppError({ code: "invalid_body", message: `invalid ${part}`, details: toProblems(parsed.error) }),
    };
  };

/** A fastify scope whose routes declare zod schemas: request and reply types follow from them. */
export type ZodApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;
