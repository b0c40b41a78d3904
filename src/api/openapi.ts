/**
 * The API document (`GET /api/openapi.json`, OpenAPI 3.1), generated from the zod schemas the
 * routes validate requests with and serialise answers through, so it cannot drift from what the
 * server does. Routes in the authenticated scope are marked with the bearer scheme and their
 * error answers by {@link documentSourceRoute}; the signed callbacks sources receive are listed
 * as `webhooks`.
 */
import fastifySwagger from "@fastify/swagger";
import type { FastifyInstance, FastifySchema, RouteOptions } from "fastify";
import { jsonSchemaTransform } from "fastify-type-provider-zod";
import { z } from "zod";
import { ApprovalRecordSchema } from "../domain/requests/approval-requests.js";
import { CommandRecordSchema } from "../domain/requests/report-requests.js";
import { BadRequestSchema, ErrorSchema, UnavailableSchema } from "./response-schemas.js";

/** The name of the bearer-token security scheme in the document. */
export const BEARER_SCHEME = "bearerAuth";

/** Where the document is served. */
export const OPENAPI_PATH = "/api/openapi.json";

/** Answers that are not JSON, documented by media type (their routes declare no zod schema). */
const TEXT_ANSWERS: Record<string, { type: string; description: string }> = {
  "/": { type: "text/html", description: "The home page: what this is, with links" },
  "/metrics": { type: "text/plain", description: "Prometheus metrics (text exposition format)" },
};

/** Only the API, the home page and metrics are documented; channel routes are not for sources. */
const isDocumented = (url: string) => url === "/" || url === "/metrics" || url.startsWith("/api/");

const RETRY_AFTER = { type: "integer", description: "Seconds to wait before trying again (absent while stopping)" };

type JsonSchema = Record<string, unknown>;

/**
 * The document's form of a route: zod schemas to JSON Schema (request parts as accepted, answers
 * as sent), `Retry-After` on each 503, and the media type of the answers that are not JSON.
 */
function transformRoute(input: Parameters<typeof jsonSchemaTransform>[0]): { schema: FastifySchema; url: string } {
  if (!isDocumented(input.url)) return { schema: { hide: true } as FastifySchema, url: input.url };
  const text = TEXT_ANSWERS[input.url];
  if (text) {
    const { response: _ignored, ...rest } = (input.schema ?? {}) as FastifySchema;
    const content = { [text.type]: { schema: { type: "string" } } };
    return { schema: { ...rest, response: { 200: { description: text.description, content } } }, url: input.url };
  }
  const out = jsonSchemaTransform(input);
  const response = out.schema?.response as Record<string, JsonSchema> | undefined;
  if (response?.["503"]) response["503"] = { ...response["503"], headers: { "Retry-After": RETRY_AFTER } };
  return out;
}

/** A zod schema as a JSON Schema 2020-12 object (the dialect of OpenAPI 3.1), as sent. */
function toJsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io: "output",
    unrepresentable: "any",
  }) as JsonSchema;
  return rest;
}

/** The signed POST signoff makes to a URL the source chose: its headers, body and expected answer. */
function signedWebhook(summary: string, description: string, body: z.ZodType) {
  const header = (name: string, text: string, example: string) => ({
    in: "header",
    name,
    required: true,
    description: text,
    schema: { type: "string" },
    example,
  });
  return {
    post: {
      summary,
      description,
      parameters: [
        header("X-Signoff-Timestamp", "When the attempt was signed, in Unix seconds", "1767225600"),
        header(
          "X-Signoff-Signature",
          'sha256=<hex HMAC-SHA256 of "<timestamp>.<body>"> keyed with the signing secret; ' +
            "recompute it over the raw body and reject stale timestamps",
          "sha256=5d41402abc4b2a76b9719d911017c592ae7a2d6a1e6c0a1b1e5f9b8f0c1d2e3f",
        ),
        header(
          "X-Signoff-Delivery",
          "The delivery's id, the same on every retry: delivery is at least once, so drop repeats by it",
          "d_01HZX4Y8Q2",
        ),
      ],
      requestBody: { required: true, content: { "application/json": { schema: toJsonSchema(body) } } },
      responses: {
        "2XX": { description: "Received. Any other status, or none in time, is retried with exponential backoff" },
      },
    },
  };
}

/**
 * Register the document generator and its route. Call it before any documented route is added:
 * it collects the routes registered after it.
 */
export function registerOpenApi(app: FastifyInstance, info: { version: string }): void {
  app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "signoff",
        version: info.version,
        description:
          "Conversational approvals and chat-ops: sources ask for approvals and report state; " +
          "operators answer in Telegram, WhatsApp or the web chat.",
      },
      // Relative: the document is served by the signoff it describes, so clients resolve it there.
      servers: [{ url: "/", description: "this signoff" }],
      components: {
        securitySchemes: {
          [BEARER_SCHEME]: {
            type: "http",
            scheme: "bearer",
            description: "The source's token; signoff stores only its SHA-256 (`tokenSha256`)",
          },
        },
      },
      webhooks: {
        approvalDecided: signedWebhook(
          "An approval was decided",
          "POSTed to the request's `callbackUrl` once it is decided (approved, rejected, changes " +
            "requested, cancelled or timed out). After the last failed attempt the delivery is dead-lettered.",
          ApprovalRecordSchema,
        ),
        commandIssued: signedWebhook(
          "An operator sent a command for a task",
          "POSTed to the source's `commandUrl` when an operator kills, retries or prioritises one of its " +
            "tasks; the same command is listed by `GET /api/commands` until acknowledged.",
          CommandRecordSchema,
        ),
      },
    } as never,
    transform: transformRoute as never,
  });
}

/** Add `GET /api/openapi.json` (public); call it inside a scope registered after {@link registerOpenApi}. */
export function registerOpenApiRoute(app: FastifyInstance): void {
  app.get(
    OPENAPI_PATH,
    {
      schema: {
        summary: "This document (OpenAPI 3.1)",
        response: { 200: z.looseObject({ openapi: z.string() }).describe("The OpenAPI document") },
      },
    },
    async () => app.swagger(),
  );
}

/**
 * The `onRoute` hook of the authenticated scope: marks each route with the bearer scheme and
 * declares the error answers every source route can give (401, 503 and 500; 400 when it
 * validates a part of the request, 413 when it takes a body). A route's own declarations win.
 */
export function documentSourceRoute(route: RouteOptions): void {
  route.schema ??= {};
  const schema = route.schema as FastifySchema & { security?: unknown };
  schema.security = [{ [BEARER_SCHEME]: [] }];
  const validates = Boolean(schema.body || schema.querystring || schema.params);
  schema.response = {
    ...(validates ? { 400: BadRequestSchema } : {}),
    401: ErrorSchema.describe("Missing or invalid bearer token"),
    ...(schema.body ? { 413: ErrorSchema.describe("The body is larger than 1 MiB") } : {}),
    500: ErrorSchema.describe("An unexpected fault (logged)"),
    503: UnavailableSchema,
    ...(schema.response as Record<string, unknown> | undefined),
  };
}
