import type { Eta } from "eta/core";

/**
 * `it.params.name`, `it.params["name"]` (or `'name'`, or a backtick string without `${`), with
 * optional chaining; the look-behind keeps `other.it.params.x` and `xit.params.x` out.
 */
function pattern(varName: string): RegExp {
  const name = "([A-Za-z_$][\\w$]*)";
  const quoted = "\"([^\"\\\\\\n]*)\"|'([^'\\\\\\n]*)'|`([^`\\\\$\\n]*)`";
  return new RegExp(
    `(?<![\\w$.])${varName}\\s*\\??\\.\\s*params\\s*(?:(?:\\?\\.|\\.)\\s*${name}|(?:\\?\\.)?\\[\\s*(?:${quoted})\\s*\\])`,
    "g",
  );
}

/**
 * The template parameters an Eta template reads, in order of first use: `it.params.x` and
 * `it.params["x"]` inside its tags (text outside the tags is not code, so it is not searched). A
 * computed key (`it.params[key]`) cannot be known and is not listed.
 *
 * @example etaParameters(createEta(), '{"c": <%= json(it.params.campaign) %>}') // ["campaign"]
 */
export function etaParameters(eta: Eta, source: string): string[] {
  let segments: ReturnType<Eta["parse"]>;
  try {
    segments = eta.parse(source);
  } catch {
    return [];
  }
  const re = pattern(eta.config.varName);
  const names = new Set<string>();
  for (const segment of segments) {
    if (typeof segment === "string") continue;
    for (const m of segment.val.matchAll(re)) names.add((m[1] ?? m[2] ?? m[3] ?? m[4])!);
  }
  return [...names];
}
