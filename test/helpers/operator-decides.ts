/**
 * An operator answering a request's card in the web chat of a test instance, found by the code
 * the requester was given: approve (the card's first button), reject or ask for changes (a reply
 * with the note), as a person would.
 */
import type { Signoff } from "../../src/main.js";
import { eventually } from "./harness.js";

/** What the operator answers. */
export type Answer = { verdict: "approve" } | { verdict: "reject" | "changes"; note: string };

/** The card for `code` in `operator`'s chat, once it has arrived. */
export function cardFor(s: Signoff, operator: string, code: string) {
  return eventually(
    () => s.webchat!.history(operator).find((m) => m.from === "bot" && m.text.includes(code) && m.buttons.length > 0),
    `card ${code} in ${operator}'s chat`,
  );
}

/** `operator` answers the card of `code`. */
export async function operatorDecides(s: Signoff, code: string, answer: Answer, operator = "adam"): Promise<void> {
  const card = await cardFor(s, operator, code);
  if (answer.verdict === "approve") await s.webchat!.operatorPresses(operator, card.id, card.buttons[0]!.data);
  else await s.webchat!.operatorSays(operator, `${answer.verdict === "reject" ? "❌" : "📝"} ${answer.note}`, card.id);
}
