#!/usr/bin/env node
/**
 * Gate a deploy on an operator's approval, in plain Node (no TypeScript loader):
 *
 *   SIGNOFF_URL=http://127.0.0.1:3000 SIGNOFF_TOKEN=... \
 *     node examples/deploy-gate.mjs --title "Deploy api to prod" --timeout 600 -- ./deploy.sh prod
 *
 * The command runs only when the request is approved, and this exits with its code. Otherwise it
 * prints what happened and exits like `signoff ask`: 1 rejected, 3 changes requested (the note is
 * printed), 4 cancelled or no decision in time, 2 usage or connection problems. Ctrl-C stops
 * waiting and cancels the request, so nobody is asked about a deploy that no longer waits.
 */
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import {
  createClient,
  SignoffAbortError,
  SignoffRequestError,
  SignoffTimeoutError,
  SignoffTransportError,
} from "signoff/client";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    title: { type: "string" },
    gate: { type: "string", default: "medium" },
    reason: { type: "string" },
    timeout: { type: "string", default: "600" },
  },
});
const command = positionals;
if (command.length === 0 || !process.env.SIGNOFF_URL || !process.env.SIGNOFF_TOKEN) {
  console.error("usage: SIGNOFF_URL=... SIGNOFF_TOKEN=... node deploy-gate.mjs [--title T] [--gate G] -- <command...>");
  process.exit(2);
}

const signoff = createClient({ url: process.env.SIGNOFF_URL, token: process.env.SIGNOFF_TOKEN });
const stop = new AbortController();
process.once("SIGINT", () => stop.abort());

let decision;
try {
  decision = await signoff.requireApproval(
    {
      title: values.title ?? `Deploy: ${command.join(" ")}`,
      gate: values.gate,
      ...(values.reason ? { reason: values.reason } : {}),
      preview: `$ ${command.join(" ")}`,
    },
    {
      timeoutMs: Number(values.timeout) * 1000,
      signal: stop.signal,
      onCreated: (a) => console.log(`waiting for approval of ${a.code} "${a.title}" (${a.gate})…`),
    },
  );
} catch (error) {
  if (error instanceof SignoffTimeoutError) {
    console.log(`no decision on ${error.approval.code} within ${values.timeout} s; it stays pending`);
    process.exit(4);
  }
  if (error instanceof SignoffAbortError) {
    if (error.approvalId) await signoff.cancel(error.approvalId).catch(() => undefined);
    console.log("stopped waiting; the request is cancelled");
    process.exit(4);
  }
  if (error instanceof SignoffRequestError) console.error(`signoff refused the request: ${error.message}`);
  else if (error instanceof SignoffTransportError) console.error(`could not reach signoff: ${error.message}`);
  else console.error(error);
  process.exit(2);
}

const by = decision.decidedBy ? ` by ${decision.decidedBy}` : "";
switch (decision.status) {
  case "approved": {
    console.log(`approved${by}; running ${command.join(" ")}`);
    const child = spawn(command[0], command.slice(1), { stdio: "inherit" });
    child.on("error", (error) => {
      console.error(`could not run ${command[0]}: ${error.message}`);
      process.exit(2);
    });
    child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
    break;
  }
  case "rejected":
    console.log(`rejected${by}${decision.note ? `: ${decision.note}` : ""}; not deploying`);
    process.exit(1);
    break;
  case "changes_requested":
    console.log(`changes requested${by}: ${decision.note ?? ""}`);
    process.exit(3);
    break;
  default:
    console.log(`${decision.status}${by}; not deploying`);
    process.exit(4);
}
