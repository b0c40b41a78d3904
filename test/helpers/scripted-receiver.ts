/**
 * A webhook receiver on 127.0.0.1 whose answer to each request is scripted: a status code, or
 * "hang" (read the request, never answer) to play a receiver that accepts and then goes silent.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the receiver does with the n-th request. */
export type ScriptedReply = number | "hang";

export interface ScriptedRequest {
  n: number;
  body: string;
  headers: IncomingHttpHeaders;
  reply: ScriptedReply;
  at: number;
}

/** Start a receiver; `script(n)` decides the reply to the n-th request (1-based). */
export async function startScriptedReceiver(script: (n: number) => ScriptedReply = () => 200) {
  const received: ScriptedRequest[] = [];
  const hanging = new Set<ServerResponse>();
  let count = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const n = ++count;
      const reply = script(n);
      received.push({ n, body: Buffer.concat(chunks).toString("utf8"), headers: req.headers, reply, at: Date.now() });
      if (reply === "hang") {
        hanging.add(res);
        res.on("close", () => hanging.delete(res));
        return;
      }
      res.writeHead(reply, { "content-type": "text/plain" }).end(reply < 300 ? "ok" : "nope");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    /** Requests answered with a 2xx. */
    successes: () => received.filter((r) => typeof r.reply === "number" && r.reply < 300),
    /** Requests still held open without an answer. */
    hangingCount: () => hanging.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
