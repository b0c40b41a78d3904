/**
 * The HTTP port is bound before any other start-up work: a second instance on a busy port fails
 * at once, before it migrates or starts workers, and health answers `503 starting` while the rest
 * of start-up runs. Fastify is attached later as the server's request handler.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** A listening server that answers "starting" until {@link BoundHttpServer.attach} is called. */
export interface BoundHttpServer {
  server: Server;
  /** `http://host:port` it listens on. */
  url: string;
  /** Hand requests to the real app from now on; returns the server (fastify's `serverFactory`). */
  attach(handler: Handler): Server;
  /**
   * Stop accepting connections and close idle ones; requests in flight get `graceMs` to finish
   * (long polls and event streams are then cut: clients reconnect to the next instance).
   */
  close(graceMs?: number): Promise<void>;
}

/** Thrown when the port cannot be bound; the message names `HTTP_PORT` / `HTTP_HOST`. */
export class ListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ListenError";
  }
}

/** Bind `host:port` now. */
export async function listenEarly(port: number, host: string): Promise<BoundHttpServer> {
  let handler: Handler | null = null;
  const server = createServer((request, response) => {
    if (handler) return handler(request, response);
    response.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
    response.end(JSON.stringify({ status: "starting" }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      const why =
        error.code === "EADDRINUSE"
          ? "is already in use"
          : error.code === "EACCES"
            ? "needs more privileges"
            : `failed (${error.code ?? error.message})`;
      reject(new ListenError(`HTTP_PORT / HTTP_HOST: binding ${host}:${port} ${why}`));
    });
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === "object" && address ? address.port : port;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    server,
    url: `http://${shownHost}:${bound}`,
    attach(next) {
      handler = next;
      return server;
    },
    close: (graceMs = 1_500) =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
