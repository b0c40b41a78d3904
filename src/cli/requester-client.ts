/**
 * The requester commands (`ask`, `run`, `mcp`, `hook`) reach signoff through the client with
 * `SIGNOFF_URL` and `SIGNOFF_TOKEN` from the environment (and `.env`); a missing or unusable one
 * is named, never guessed.
 */
import { type ClientOptions, createClient, type SignoffClient } from "../client/index.js";
import { CliError } from "./command.js";

/**
 * A client for the signoff named by `SIGNOFF_URL` with the source token `SIGNOFF_TOKEN`.
 * Throws {@link CliError} (exit 2) naming the variable that is missing or unusable.
 *
 * @example
 * const client = requesterClient(io.env);
 */
export function requesterClient(
  env: NodeJS.ProcessEnv,
  options: Omit<ClientOptions, "url" | "token"> = {},
): SignoffClient {
  const url = env.SIGNOFF_URL;
  const token = env.SIGNOFF_TOKEN;
  if (!url) throw new CliError("SIGNOFF_URL is not set: signoff's address, e.g. http://127.0.0.1:3000");
  if (!token) throw new CliError("SIGNOFF_TOKEN is not set: the source's bearer token (see `signoff token`)");
  if (!/^https?:\/\/[^/]/i.test(url)) throw new CliError("SIGNOFF_URL must be an http(s) URL");
  try {
    new URL(url);
  } catch {
    throw new CliError("SIGNOFF_URL is not a valid URL");
  }
  return createClient({ url, token, ...options });
}
