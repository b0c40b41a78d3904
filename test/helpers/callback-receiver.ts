/**
 * A webhook receiver on 127.0.0.1 that records every delivery and can fail on purpose.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { verifySignature } from "../../src/jobs/signing.js";
import { SIGNING_SECRET } from "./harness.js";

export interface ReceivedCallback {
  body: string;
  headers: IncomingHttpHeaders;
  status: number;
  at: number;
}

/** Whether `request` carries signoff's signature (with the test secret) over its exact body. */
export function signedBySignoff(request: { body: string; headers: IncomingHttpHeaders }): boolean {
  const { headers } = request;
  return verifySignature(
    SIGNING_SECRET,
    request.body,
    String(headers["x-signoff-timestamp"]),
    String(headers["x-signoff-signature"]),
  );
}

/** Start a receiver; `respond(n)` gives the status for the n-th request (1-based). */
export async function startCallbackReceiver(respond: (n: number) => number = () => 200) {
  const received: ReceivedCallback[] = [];
  let count = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      count++;
      const status = respond(count);
      received.push({ body: Buffer.concat(chunks).toString("utf8"), headers: req.headers, status, at: Date.now() });
      res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "nope");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    successes: () => received.filter((r) => r.status < 300),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
