#!/usr/bin/env node
// The `signoff` command: registers tsx (resolved from this package, not from the current
// directory, so it works from anywhere and when installed globally) and runs the TypeScript CLI
// in this same process. No child process: stdin, stdout, stderr, signals and the exit code are
// the command's own, and Ctrl-C reaches it once.
import { register } from "tsx/esm/api";

register();
const { main } = await import(new URL("../src/cli.ts", import.meta.url).href);
await main(process.argv.slice(2));
