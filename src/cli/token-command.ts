/** `signoff token [name]`: a new source bearer token and the line for signoff.yaml. */
import { createHash, randomBytes } from "node:crypto";
import { type CliCommand, parseFlags } from "./command.js";

const USAGE = `usage: signoff token [name]

  Make a new bearer token for a source (default name: my-source) and print the sources: entry
  for signoff.yaml. The file holds only the token's SHA-256; the token is shown once.`;

/** The `token` entry of the command table. */
export const tokenCommand: CliCommand = {
  summary: "  token [name]         make a new source bearer token and the tokenSha256 line for signoff.yaml",
  usage: USAGE,
  async run(args, io) {
    const { positionals } = parseFlags(args, {}, USAGE, { max: 1 });
    const token = randomBytes(32).toString("base64url");
    const name = positionals[0] ?? "my-source";
    io.out(`token (give this to the source, keep it secret; it is shown only now):\n  ${token}`);
    io.out(
      `add to signoff.yaml under sources:\n  - name: ${name}\n    tokenSha256: ${createHash("sha256").update(token).digest("hex")}`,
    );
    return 0;
  },
};
