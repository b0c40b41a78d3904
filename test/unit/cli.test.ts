/**
 * The command line's dispatch, flag parsing and error lines, without a database: help and
 * mistakes (exit 0 and 2, on the right stream), one-line errors without the password, and how
 * `backup` finds pg_dump and splits the password off the connection.
 */
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { COMMANDS, overview, runCli } from "../../src/cli.js";
import { defaultBackupFile, formatBytes } from "../../src/cli/backup-command.js";
import { describeCliError } from "../../src/cli/cli-errors.js";
import { CliError, parseFlags, UsageError } from "../../src/cli/command.js";
import { findPgDump, splitDatabaseUrl } from "../../src/cli/pg-dump.js";
import { ConfigError } from "../../src/config.js";

const dir = mkdtempSync(join(tmpdir(), "signoff-cli-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, (l) => out.push(l), { err: (l) => err.push(l), env });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("runCli", () => {
  it("prints the overview on stdout for no command, --help, -h and help; exit 0", async () => {
    for (const argv of [[], ["--help"], ["-h"], ["help"]]) {
      const r = await run(argv);
      expect(r).toEqual({ code: 0, out: overview(), err: "" });
    }
    for (const name of Object.keys(COMMANDS)) expect(overview()).toContain(`  ${name}`);
  });

  it("prints one command's usage for <command> --help and help <command>; exit 0", async () => {
    for (const name of Object.keys(COMMANDS)) {
      expect(await run([name, "--help"])).toEqual({ code: 0, out: COMMANDS[name]!.usage, err: "" });
      expect(await run(["help", name])).toEqual({ code: 0, out: COMMANDS[name]!.usage, err: "" });
    }
    expect((await run(["audit", "verify", "-h"])).out).toBe(COMMANDS.audit!.usage);
  });

  it("names an unknown command or option on stderr before the overview; exit 2", async () => {
    const r = await run(["frob"]);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toBe(`signoff: unknown command 'frob'\n\n${overview()}`);
    expect((await run(["--frob"])).err).toMatch(/^signoff: unknown option '--frob'\n/);
    expect((await run(["help", "frob"])).code).toBe(2);
    // Names of Object.prototype are not commands.
    expect((await run(["constructor"])).err).toMatch(/^signoff: unknown command 'constructor'/);
  });

  it("refuses unknown flags, stray arguments and unknown subcommands with that command's usage; exit 2", async () => {
    const cases: Array<[string[], string, string]> = [
      [["backup", "--frob"], "unknown option '--frob'", "backup"],
      [["backup", "--out"], "option '--out' needs a value", "backup"],
      [["migrate", "now"], "unexpected argument 'now'", "migrate"],
      [["token", "a", "b"], "unexpected argument 'b'", "token"],
      [["audit"], "audit needs a subcommand", "audit"],
      [["audit", "check"], "unknown audit subcommand 'check'", "audit"],
      [["whatsapp", "dance"], "unknown whatsapp subcommand 'dance'", "whatsapp"],
    ];
    for (const [argv, message, name] of cases) {
      const r = await run(argv);
      expect({ argv, code: r.code, err: r.err }).toEqual({
        argv,
        code: 2,
        err: `signoff: ${message}\n\n${COMMANDS[name]!.usage}`,
      });
    }
  });

  it("turns a bad environment into one line naming the field; exit 2", async () => {
    const r = await run(["migrate"], { DATABASE_SCHEMA: "Not-A-Schema" });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^signoff: environment is invalid: DATABASE_SCHEMA: [^\n]+$/);
  });

  it("makes a token and the matching tokenSha256 line", async () => {
    const r = await run(["token", "forge"]);
    expect(r.code).toBe(0);
    const token = /shown only now\):\n {2}(\S+)/.exec(r.out)?.[1] ?? "";
    expect(r.out).toContain(`- name: forge\n    tokenSha256: ${createHash("sha256").update(token).digest("hex")}`);
  });
});

describe("describeCliError", () => {
  const url = "postgres://signoff:p%40ss-word@db.internal:6543/signoff";

  it("says PostgreSQL cannot be reached, with host:port and never the password", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 10.0.0.5:6543"), { code: "ECONNREFUSED" });
    expect(describeCliError(refused, url)).toEqual({
      lines: [
        "signoff: cannot reach PostgreSQL at DATABASE_URL (db.internal:6543): connection refused (is PostgreSQL running there?)",
      ],
      code: 2,
    });
    const aggregate = Object.assign(new AggregateError([Object.assign(new Error("x"), { code: "ECONNREFUSED" })]), {});
    expect(describeCliError(aggregate, url).lines[0]).toMatch(/cannot reach PostgreSQL .*connection refused/);
    const timeout = new Error("timeout exceeded when trying to connect");
    expect(describeCliError(timeout, url).code).toBe(2);
    const login = Object.assign(new Error('password authentication failed for user "signoff" (p@ss-word)'), {
      code: "28P01",
    });
    const described = describeCliError(login, url);
    expect(described.code).toBe(2);
    expect(described.lines.join("\n")).not.toMatch(/p@ss-word|p%40ss-word/);
    expect(described.lines[0]).toMatch(
      /^signoff: PostgreSQL at DATABASE_URL \(db\.internal:6543\) refused the connection/,
    );
  });

  it("keeps usage, config and operator errors at exit 2 and anything else at exit 1, one line each", () => {
    expect(describeCliError(new UsageError("unknown option '-x'", "usage: signoff x"), url)).toEqual({
      lines: ["signoff: unknown option '-x'", "", "usage: signoff x"],
      code: 2,
    });
    expect(describeCliError(new ConfigError("environment is invalid:\n  A: bad\n  B: worse"), url)).toEqual({
      lines: ["signoff: environment is invalid: A: bad; B: worse"],
      code: 2,
    });
    expect(describeCliError(new CliError("pg_dump not found"), url).code).toBe(2);
    expect(describeCliError(new Error("something odd\n    at frame (file.ts:1:1)"), url)).toEqual({
      lines: ["signoff: something odd at frame (file.ts:1:1)"],
      code: 1,
    });
  });
});

describe("parseFlags", () => {
  it("reads known flags and positionals up to the limit", () => {
    const { values, positionals } = parseFlags(["--out", "f.dump", "x"], { out: { type: "string" } }, "u", { max: 1 });
    expect(values.out).toBe("f.dump");
    expect(positionals).toEqual(["x"]);
  });
});

describe("backup helpers", () => {
  it("finds pg_dump on PATH first, else the newest version under the PostgreSQL lib dir", () => {
    const exe = (path: string) => {
      mkdirSync(join(path, ".."), { recursive: true });
      writeFileSync(path, "#!/bin/sh\n");
      chmodSync(path, 0o755);
    };
    const lib = join(dir, "lib");
    for (const v of ["9.6", "15", "17", "16"]) exe(join(lib, v, "bin", "pg_dump"));
    mkdirSync(join(lib, "18", "bin"), { recursive: true }); // a version without its client tools
    const onPath = join(dir, "path-bin");
    exe(join(onPath, "pg_dump"));
    expect(findPgDump(`${join(dir, "empty")}:${onPath}`, lib)).toBe(join(onPath, "pg_dump"));
    expect(findPgDump(join(dir, "empty"), lib)).toBe(join(lib, "17", "bin", "pg_dump"));
    expect(findPgDump(undefined, join(dir, "nowhere"))).toBeNull();
  });

  it("splits the password off the URL (user part or query) and keeps the rest", () => {
    expect(splitDatabaseUrl("postgres://u:p%40ss@h:5433/db?sslmode=require")).toEqual({
      dbname: "postgres://u@h:5433/db?sslmode=require",
      password: "p@ss",
    });
    expect(splitDatabaseUrl("postgres://u@h/db?password=q")).toEqual({ dbname: "postgres://u@h/db", password: "q" });
    expect(splitDatabaseUrl("postgres://u@h/db")).toEqual({ dbname: "postgres://u@h/db", password: null });
  });

  it("names the default file by UTC time and prints sizes for people", () => {
    expect(defaultBackupFile(new Date("2025-03-04T05:06:07.890Z"))).toBe("signoff-backup-20250304T050607Z.dump");
    expect([999, 38_205, 12_345_678].map(formatBytes)).toEqual(["999 B", "38.2 kB", "12.3 MB"]);
  });
});
