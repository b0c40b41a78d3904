/**
 * `GET /` and the icon on a real signoff: public, HTML, linking health, metrics and the API
 * document, and the web chat only when it is served (otherwise saying why it is off). Anyone who
 * reaches the port sees the page, so it names no operator and no source.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Signoff } from "../../src/main.js";
import { cleanupTestInstance, startTestSignoff, TEST_OPERATORS } from "../helpers/harness.js";

let withChat: Signoff & { schema: string; prefix: string };
let withoutChat: Signoff & { schema: string; prefix: string };
beforeAll(async () => {
  [withChat, withoutChat] = await Promise.all([startTestSignoff(), startTestSignoff({ webchat: false })]);
});
afterAll(async () => {
  for (const x of [withChat, withoutChat]) {
    await x.close();
    await cleanupTestInstance(x.schema, x.prefix);
  }
});

/** The hrefs of the page's links. */
const links = (html: string) => [...html.matchAll(/<a href="([^"]+)"/g)].map((m) => m[1]);

describe("the home page", () => {
  it("answers without a token, as HTML linking the web chat, health, metrics and the API document", async () => {
    const res = await fetch(`${withChat.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(links(html)).toEqual(["/chat", "/api/health", "/metrics", "/api/openapi.json"]);
    expect(html).toContain(`version ${JSON.parse(readFileSync("package.json", "utf8")).version}`);
    expect(html).toMatch(/<link rel="icon" href="\/favicon.svg"/);
    // Every link leads somewhere that answers.
    for (const href of links(html)) expect([href, (await fetch(`${withChat.url}${href}`)).status]).toEqual([href, 200]);
  });

  it("names no operator and no source", async () => {
    const html = await (await fetch(`${withChat.url}/`)).text();
    for (const name of [...TEST_OPERATORS.map((o) => o.name), "forge"]) {
      expect(html).not.toMatch(new RegExp(`\\b${name}\\b`, "i"));
    }
  });

  it("leaves the web chat out when it is off, and says why", async () => {
    const html = await (await fetch(`${withoutChat.url}/`)).text();
    expect(links(html)).toEqual(["/api/health", "/metrics", "/api/openapi.json"]);
    expect(html).toMatch(/Web chat: off — it is turned off in the configuration/);
    expect((await fetch(`${withoutChat.url}/chat`)).status).toBe(404);
  });
});

describe("the icon", () => {
  it.each(["/favicon.ico", "/favicon.svg"])("%s is an image, public", async (path) => {
    const res = await fetch(`${withChat.url}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^image\//);
    expect(await res.text()).toMatch(/^<svg /);
  });

  it("the web chat page links it", async () => {
    const html = await (await fetch(`${withChat.url}/chat`)).text();
    expect(html).toMatch(/<link rel="icon" href="\/favicon.svg"/);
  });
});
