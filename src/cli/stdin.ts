/** All of stdin as text, for commands that take their input there (`-` files, hook events). */

/**
 * Read stdin to its end.
 *
 * @example
 * const event = JSON.parse(await readStdin());
 */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
