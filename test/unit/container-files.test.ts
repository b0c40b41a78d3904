/**
 * The container files, read as Docker would read them (no Docker engine needed): compose.yaml
 * runs PostgreSQL, Redis (flags BullMQ needs) and signoff with health checks, the config mounted
 * read-only and the web chat off; the Dockerfile checks health, runs as a non-root user and does
 * not name a config file that may not exist. The health check commands are run for real.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { isLoopbackHost, loadConfig } from "../../src/config.js";

// biome-ignore lint/suspicious/noExplicitAny: compose.yaml is walked as plain YAML
const compose: any = parse(readFileSync("compose.yaml", "utf8"));
const dockerfile = readFileSync("Dockerfile", "utf8");
const services = compose.services;
const signoff = services.signoff;

/** A healthcheck's `test` as one command line. */
const healthCommand = (service: { healthcheck?: { test?: string | string[] } }) => {
  const test = service.healthcheck?.test ?? [];
  return Array.isArray(test) ? test.join(" ") : test;
};

describe("compose.yaml", () => {
  it("runs postgres, redis and signoff, each with a health check", () => {
    expect(Object.keys(services).sort()).toEqual(["postgres", "redis", "signoff"]);
    expect(healthCommand(services.postgres)).toMatch(/pg_isready/);
    expect(healthCommand(services.redis)).toMatch(/redis-cli.*ping/);
    expect(healthCommand(signoff)).toMatch(/node -e .*fetch\('http:\/\/127\.0\.0\.1:3000\/api\/health'\)/);
  });

  it("keeps PostgreSQL and Redis data in named volumes", () => {
    expect(services.postgres.volumes).toContain("postgres-data:/var/lib/postgresql/data");
    expect(services.redis.volumes).toContain("redis-data:/data");
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(["postgres-data", "redis-data"]));
  });

  it("runs Redis with noeviction, hz 100 and the append-only file", () => {
    const command = [services.redis.command].flat().join(" ");
    expect(command).toMatch(/--maxmemory-policy noeviction/);
    expect(command).toMatch(/--hz 100/);
    expect(command).toMatch(/--appendonly yes/);
  });

  it("starts signoff once both are healthy, pointed at them", () => {
    expect(signoff.build).toBe(".");
    expect(signoff.depends_on).toEqual({
      postgres: { condition: "service_healthy" },
      redis: { condition: "service_healthy" },
    });
    expect(new URL(signoff.environment.DATABASE_URL.replace(/\$\{[^}]+\}/g, "x")).hostname).toBe("postgres");
    expect(new URL(signoff.environment.REDIS_URL).hostname).toBe("redis");
  });

  it("mounts the config read-only where SIGNOFF_CONFIG points, and takes secrets from an optional .env", () => {
    expect(signoff.environment.SIGNOFF_CONFIG).toBe("/config/signoff.yaml");
    expect(signoff.volumes).toContain("./signoff.yaml:/config/signoff.yaml:ro");
    expect(signoff.env_file).toEqual([{ path: ".env", required: false }]);
    // No secret written into the file itself.
    expect(signoff.environment).not.toHaveProperty("SIGNOFF_SIGNING_SECRET");
    expect(signoff.environment).not.toHaveProperty("TELEGRAM_BOT_TOKEN");
  });

  it("publishes the API on loopback only", () => {
    expect(signoff.ports).toEqual(["127.0.0.1:3000:3000"]);
  });

  it("keeps the web chat off: signoff's own config loading says so for this environment", () => {
    expect(isLoopbackHost(signoff.environment.HTTP_HOST)).toBe(false);
    const dir = mkdtempSync(join(tmpdir(), "signoff-compose-"));
    const file = join(dir, "signoff.yaml");
    writeFileSync(file, readFileSync("signoff.example.yaml", "utf8"));
    const config = loadConfig({
      ...signoff.environment,
      DATABASE_URL: "postgres://signoff@postgres:5432/signoff",
      SIGNOFF_CONFIG: file,
      SIGNOFF_SIGNING_SECRET: "a-signing-secret-of-some-length",
    });
    expect(config.webchatEnabled).toBe(false);
  });
});

describe("Dockerfile", () => {
  const instructions = dockerfile
    .replace(/\\\n/g, " ")
    .split("\n")
    .filter((line) => line.trim() && !line.trimStart().startsWith("#"));

  it("has a HEALTHCHECK on /api/health", () => {
    expect(instructions.filter((l) => l.startsWith("HEALTHCHECK"))).toEqual([expect.stringMatching(/\/api\/health/)]);
  });

  it("sets no SIGNOFF_CONFIG (a file that may not exist) and binds beyond loopback", () => {
    expect(instructions.join("\n")).not.toMatch(/SIGNOFF_CONFIG/);
    expect(instructions.find((l) => l.startsWith("ENV") && l.includes("HTTP_HOST"))).toMatch(/HTTP_HOST=0\.0\.0\.0/);
  });

  it("installs production dependencies only and runs as a non-root user", () => {
    expect(instructions.find((l) => l.includes("npm ci"))).toMatch(/--omit=dev/);
    const user = instructions.filter((l) => l.startsWith("USER")).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/USER\s+(root|0)\b/);
    // What the start needs is a production dependency.
    const pkg = JSON.parse(readFileSync("package.json", "utf8"));
    expect(pkg.dependencies).toHaveProperty("tsx");
  });

  it("leaves secrets, local config and installed modules out of the build context", () => {
    const ignored = readFileSync(".dockerignore", "utf8").split("\n");
    for (const entry of ["node_modules", ".env", ".git", "signoff.yaml", "*.log"]) expect(ignored).toContain(entry);
  });
});

describe("the health check commands, run for real", () => {
  let status = 200;
  const server = createServer((req, res) => {
    res.writeHead(req.url === "/api/health" ? status : 404).end("{}");
  });
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** The `node -e` script of a health check, run against `targetPort`; its exit code. */
  const run = (script: string, targetPort: number) =>
    new Promise<number | null>((resolve) => {
      // Not spawnSync: the fake health endpoint answers from this same event loop.
      const child = spawn(process.execPath, ["-e", script], {
        env: { ...process.env, HTTP_PORT: String(targetPort) },
        stdio: "ignore",
        timeout: 10_000,
      });
      child.on("exit", (code) => resolve(code));
    });
  const composeScript = () => {
    const test = signoff.healthcheck.test as string[];
    return test[test.indexOf("-e") + 1]!;
  };
  const dockerfileScript = () => {
    const line = dockerfile.replace(/\\\n/g, " ").match(/HEALTHCHECK.*CMD (\[.*\])/)![1]!;
    const command = JSON.parse(line) as string[];
    return command[command.indexOf("-e") + 1]!;
  };

  it.each([
    ["compose.yaml", () => composeScript().replace(":3000/", `:${port}/`)],
    ["Dockerfile", () => dockerfileScript()],
  ])("%s: healthy on 200, unhealthy on 503 and when nothing listens", async (_name, script) => {
    status = 200;
    expect(await run(script(), port)).toBe(0);
    status = 503;
    expect(await run(script(), port)).toBe(1);
    server.closeAllConnections();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const free = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await run(script().replace(`:${port}/`, `:${free}/`), free)).toBe(1);
  });
});
