/**
 * The built client as requesters get it: `npm run build` emits JS and .d.ts to dist/, plain node
 * (no TypeScript loader) imports it as "signoff/client" and gets a decision from a running
 * signoff, the emitted code loads nothing but node built-ins (none of the server), and a
 * TypeScript project that depends on signoff type-checks against the emitted .d.ts.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, symlink, writeFile, mkdir, copyFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Signoff } from "../../src/main.js";
import { SOURCE_TOKEN, cleanupTestInstance, eventually, startTestSignoff } from "../helpers/harness.js";

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const tsc = join(root, "node_modules/.bin/tsc");

let s: Signoff & { schema: string; prefix: string };

beforeAll(async () => {
  await run(tsc, ["-p", join(root, "tsconfig.client.json")], { cwd: root });
  s = await startTestSignoff();
});
afterAll(async () => {
  await s?.close();
  await cleanupTestInstance(s.schema, s.prefix);
});

/** Every module the built entry loads, followed through relative imports; bare specifiers listed. */
async function importsOf(entry: string): Promise<{ files: string[]; bare: Set<string> }> {
  const seen = new Set<string>();
  const bare = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const code = await readFile(file, "utf8");
    for (const [, spec] of code.matchAll(/(?:^|\n)\s*(?:import|export)\s[^"']*?from\s*["']([^"']+)["']/g)) {
      if (spec!.startsWith(".")) queue.push(resolve(dirname(file), spec!));
      else bare.add(spec!);
    }
    for (const [, spec] of code.matchAll(/(?:^|\n)\s*import\s*["']([^"']+)["']/g)) bare.add(spec!);
    for (const [, spec] of code.matchAll(/import\(\s*["']([^"']+)["']\s*\)/g)) bare.add(spec!);
  }
  return { files: [...seen], bare };
}

describe("the built client", () => {
  it("loads only node built-ins: no zod, no pg, no Redis, no chat SDK, no server module", async () => {
    const { files, bare } = await importsOf(join(root, "dist/client/index.js"));
    expect(files.length).toBeGreaterThan(3);
    expect([...bare].filter((spec) => !spec.startsWith("node:"))).toEqual([]);
    const local = files.map((f) => f.slice(join(root, "dist").length + 1)).filter((f) => !f.startsWith("client/"));
    expect(local).toEqual(["jobs/signing.js"]);
  });

  it("works from plain node as signoff/client against a running signoff", async () => {
    const title = "plain node deploy";
    const child = spawn(process.execPath, [join(root, "test/fixtures/plain-node-client.mjs")], {
      cwd: root,
      // No NODE_OPTIONS: nothing may slip a TypeScript loader in.
      env: { PATH: process.env.PATH ?? "", SIGNOFF_URL: s.url, SIGNOFF_TOKEN: SOURCE_TOKEN, TITLE: title },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const lines: string[] = [];
    createInterface({ input: child.stdout }).on("line", (line) => lines.push(line));
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));

    const created = await eventually(() => lines.find((l) => l.includes('"created"')), "the request", 15_000).catch(
      (error: Error) => {
        throw new Error(`${error.message}; stderr: ${stderr}`);
      },
    );
    const code = JSON.parse(created).created as string;
    const card = await eventually(
      () => s.webchat!.history("adam").find((m) => m.text.includes(code) && m.buttons.length > 0),
      "the card",
    );
    await s.webchat!.operatorPresses("adam", card.id, card.buttons[0]!.data);
    expect(await exited, stderr).toBe(0);
    expect(JSON.parse(lines.at(-1)!)).toEqual({
      heartbeat: { recorded: true },
      status: "approved",
      decidedBy: "adam",
      refused: { isRequestError: true, status: 400, paths: ["title"] },
      forged: false,
    });
  });

  it("type-checks a TypeScript project that depends on signoff against the emitted .d.ts", async () => {
    const project = await mkdtemp(join(tmpdir(), "signoff-consumer-"));
    try {
      await mkdir(join(project, "node_modules"));
      await symlink(root, join(project, "node_modules/signoff"), "dir");
      await copyFile(join(root, "test/fixtures/typed-consumer.ts.txt"), join(project, "consumer.ts"));
      const compilerOptions = {
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2022",
        strict: true,
        noEmit: true,
        // A consumer's own project has @types/node; this one borrows signoff's.
        typeRoots: [join(root, "node_modules/@types")],
        types: ["node"],
      };
      await writeFile(
        join(project, "package.json"),
        JSON.stringify({ type: "module", dependencies: { signoff: "*" } }),
      );
      await writeFile(join(project, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["consumer.ts"] }));
      const result = await run(tsc, ["-p", project], { cwd: project }).catch((e: { stdout: string }) => e);
      expect(result.stdout).toBe("");
    } finally {
      await rm(project, { recursive: true, force: true });
    }
  });
});
