/**
 * Where signoff may POST callbacks and commands. A source chooses the URL, so without a rule it
 * could make signoff call the cloud's metadata service (and read credentials from the answer
 * logs or timing). Link-local and metadata addresses are refused always; `callbacks.allowHosts`
 * in the config narrows the rest to named hosts.
 */

/** Hosts of cloud metadata services that are not link-local addresses. */
const METADATA_HOSTS = new Set([
  "metadata.google.internal",
  "metadata.goog",
  "metadata",
  "100.100.100.200",
  "fd00:ec2::254",
]);

/** The dotted IPv4 inside an IPv4-mapped IPv6 host (`::ffff:a9fe:a9fe` → 169.254.169.254). */
function mappedIpv4(host: string): string | null {
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (m) {
    const hi = Number.parseInt(m[1]!, 16);
    const lo = Number.parseInt(m[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  const dotted = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(host);
  return dotted ? dotted[1]! : null;
}

/** Whether a URL host (as `new URL` normalises it) is link-local or a metadata service. */
export function isForbiddenCallbackHost(hostname: string): boolean {
  let host = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");
  host = mappedIpv4(host) ?? host;
  if (METADATA_HOSTS.has(host)) return true;
  if (/^169\.254\.\d{1,3}\.\d{1,3}$/.test(host)) return true; // IPv4 link-local, incl. 169.254.169.254
  return /^fe[89ab][0-9a-f]?:/.test(host); // fe80::/10
}

/** Whether `hostname` matches one entry of `allowHosts` (`api.example.com` or `*.example.com`). */
export function isAllowedHost(hostname: string, allowHosts: readonly string[]): boolean {
  const host = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");
  return allowHosts.some((entry) => {
    const rule = entry.toLowerCase().replace(/^\[|\]$/g, "");
    return rule.startsWith("*.") ? host.endsWith(rule.slice(1)) : host === rule;
  });
}

/** Why signoff will not call this URL, or null when it may. */
export function callbackUrlProblem(url: string, allowHosts?: readonly string[]): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "not a URL";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "must be http or https";
  if (isForbiddenCallbackHost(parsed.hostname)) return "link-local and cloud metadata addresses are not allowed";
  if (allowHosts && !isAllowedHost(parsed.hostname, allowHosts))
    return `host ${parsed.hostname} is not in callbacks.allowHosts`;
  return null;
}
