/**
 * Checking real answers against the API document: the JSON Schema the document gives for a
 * route and status, compiled with Ajv's 2020-12 dialect (the one OpenAPI 3.1 uses), independent
 * of the zod schemas the document was generated from.
 */
import { Ajv2020 } from "ajv/dist/2020.js";

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is walked as plain JSON
export type OpenApiDoc = any;

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });

/** `/api/approvals/:id` → `/api/approvals/{id}` (fastify's path to the document's). */
export const toDocPath = (path: string) => path.replace(/:(\w+)/g, "{$1}");

/** The documented answer of `method path` with `status`, or null when the document has none. */
export function documentedAnswer(doc: OpenApiDoc, method: string, path: string, status: number) {
  const operation = doc.paths?.[toDocPath(path)]?.[method.toLowerCase()];
  return operation?.responses?.[String(status)] ?? null;
}

/**
 * Throws unless `body` (answered with `status` by `method path`) is documented and matches the
 * documented JSON schema; the message names the route, the status and what did not match.
 */
export function expectDocumented(doc: OpenApiDoc, method: string, path: string, status: number, body: unknown): void {
  const answer = documentedAnswer(doc, method, path, status);
  if (!answer) throw new Error(`${method} ${path} answered ${status}, which the document does not list`);
  const schema = answer.content?.["application/json"]?.schema;
  if (!schema) throw new Error(`${method} ${path} ${status} has no JSON schema in the document`);
  expectMatches(schema, body, `${method} ${path} ${status}`);
}

/** Throws unless `value` matches the JSON `schema`; the message says where (`what`) and how not. */
export function expectMatches(schema: object, value: unknown, what: string): void {
  const validate = ajv.compile(schema);
  if (!validate(value)) {
    throw new Error(
      `${what}: does not match the document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 500)}`,
    );
  }
}

/** Every `[METHOD, path]` fastify serves, from its route tree (`printRoutes`), HEAD left out. */
export function servedRoutes(printed: string): Array<[string, string]> {
  const routes: Array<[string, string]> = [];
  const stack: string[] = [];
  for (const line of printed.split("\n")) {
    const m = /^(.*?)[└├]── (\S+)(?: \(([^)]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const parent = stack.at(-1) ?? "";
    const path = parent === "/" && !m[2]!.startsWith("/") ? `/${m[2]}` : parent + m[2];
    stack.push(path);
    for (const method of (m[3] ?? "").split(", ").filter(Boolean)) {
      if (method !== "HEAD") routes.push([method, path]);
    }
  }
  return routes;
}
