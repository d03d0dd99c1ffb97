import type { KeyPath } from "./positions.ts";

type Entry = Record<string, unknown>;

/** Fields merged key by key (a webhook adds to or overrides its preset's); every other field is replaced whole. */
const KEYED = ["headers", "params"] as const;
type Keyed = (typeof KEYED)[number];

/** A preset or webhook with its chain applied, and which entry wrote each field (for error positions). */
interface Resolved {
  fields: Entry;
  /** Field → the entry that wrote it (`["presets", "crm-base"]`). */
  owners: Map<string, KeyPath>;
  /** For headers and params: key → the entry that wrote it. */
  keyOwners: Record<Keyed, Map<string, KeyPath>>;
}

/** A problem with a preset reference, at the `extends` that makes it. */
export interface PresetIssue {
  path: KeyPath;
  message: string;
}

/** Webhooks with their presets applied, and where each of their fields is written. */
export interface ResolvedWebhooks {
  /**
   * Each webhook's entry as written, merged over its preset chain, before the schema applies its
   * defaults (so a preset's `method: PUT` is not overridden by the default POST). An entry whose
   * chain is broken (unknown preset, loop) is left out: its issue is already reported.
   */
  webhooks: Record<string, unknown>;
  /** Maps a key path into a merged webhook to the place in the file that wrote it (a preset's line for its fields). */
  origin(path: KeyPath): KeyPath;
  issues: PresetIssue[];
}

const isRecord = (v: unknown): v is Entry => typeof v === "object" && v !== null && !Array.isArray(v);

const EMPTY: Resolved = {
  fields: {},
  owners: new Map(),
  keyOwners: { headers: new Map(), params: new Map() },
};

/** `own` over `base`: a shallow merge, except that headers (case-insensitively) and params merge key by key. */
function merge(base: Resolved, ownPath: KeyPath, own: Entry): Resolved {
  const fields: Entry = { ...base.fields };
  const owners = new Map(base.owners);
  const keyOwners = { headers: new Map(base.keyOwners.headers), params: new Map(base.keyOwners.params) };
  for (const [field, value] of Object.entries(own)) {
    owners.set(field, ownPath);
    const keyed = (KEYED as readonly string[]).includes(field) ? (field as Keyed) : undefined;
    const inherited = fields[field];
    if (keyed && isRecord(value) && isRecord(inherited)) {
      const merged: Entry = { ...inherited };
      for (const [key, v] of Object.entries(value)) {
        // Header names are case-insensitive: `x-source` in a webhook replaces its preset's `X-Source`.
        for (const existing of Object.keys(merged)) {
          if (keyed === "headers" && existing !== key && existing.toLowerCase() === key.toLowerCase()) {
            delete merged[existing];
            keyOwners.headers.delete(existing);
          }
        }
        merged[key] = v;
        keyOwners[keyed].set(key, ownPath);
      }
      fields[field] = merged;
    } else {
      fields[field] = value;
      if (keyed)
        keyOwners[keyed] = new Map(Object.keys(isRecord(value) ? value : {}).map((k) => [k, ownPath]));
    }
  }
  return { fields, owners, keyOwners };
}

/**
 * Applies `presets:` to `webhooks:` as written in a config file: a webhook (or preset) that
 * `extends: NAME` starts from that preset's fields (its own chain applied first) and overrides them;
 * `headers` and `params` merge key by key. An unknown preset is an issue at the `extends` naming it,
 * listing the known ones; a chain that loops is an issue at the `extends` that closes the loop.
 * Entries that are not maps, and `extends` values that are not strings, are left for the schema.
 *
 * @example
 * const r = resolveWebhooks(
 *   { base: { method: "PUT", headers: { "X-Source": "hookline" } } },
 *   { sync: { extends: "base", url: "https://x.example.com", headers: { "X-Id": "1" } } },
 * );
 * r.webhooks.sync // { method: "PUT", headers: { "X-Source": "hookline", "X-Id": "1" }, extends: "base", url: "https://x.example.com" }
 * r.origin(["webhooks", "sync", "method"]) // ["presets", "base", "method"]
 */
export function resolveWebhooks(presets: unknown, webhooks: unknown): ResolvedWebhooks {
  const all = isRecord(presets) ? presets : {};
  const issues: PresetIssue[] = [];
  const done = new Map<string, Resolved | null>();
  const resolving: string[] = [];

  const base = (at: KeyPath, name: unknown): Resolved | null => {
    if (typeof name !== "string") return EMPTY;
    if (!Object.hasOwn(all, name)) {
      const known = Object.keys(all);
      const expected = known.length > 0 ? `expected one of: ${known.join(", ")}` : "no presets are defined";
      issues.push({
        path: [...at, "extends"],
        message: `unknown preset ${JSON.stringify(name)}; ${expected}`,
      });
      return null;
    }
    return preset(name);
  };
  const preset = (name: string): Resolved | null => {
    const known = done.get(name);
    if (known !== undefined) return known;
    const own = all[name];
    // Not a map: the schema reports it; what extends it has nothing sound to start from.
    if (!isRecord(own)) return null;
    const loop = resolving.indexOf(name);
    if (loop >= 0) {
      const chain = [...resolving.slice(loop), name];
      issues.push({
        path: ["presets", resolving.at(-1)!, "extends"],
        message: `presets extend each other in a loop: ${chain.join(" → ")}`,
      });
      for (const n of chain) done.set(n, null);
      return null;
    }
    resolving.push(name);
    const from = base(["presets", name], own.extends);
    resolving.pop();
    const result = from && !done.has(name) ? merge(from, ["presets", name], own) : null;
    done.set(name, result);
    return result;
  };
  // Every preset is resolved, used or not, so that a loop or a typo is reported where it is written.
  for (const name of Object.keys(all)) preset(name);

  const merged: Record<string, unknown> = {};
  const resolved = new Map<string, Resolved>();
  for (const [name, entry] of Object.entries(isRecord(webhooks) ? webhooks : {})) {
    if (!isRecord(entry) || typeof entry.extends !== "string") {
      merged[name] = entry;
      continue;
    }
    const from = base(["webhooks", name], entry.extends);
    if (!from) continue;
    const r = merge(from, ["webhooks", name], entry);
    resolved.set(name, r);
    merged[name] = r.fields;
  }

  const origin = (path: KeyPath): KeyPath => {
    const r = path[0] === "webhooks" && path.length >= 3 ? resolved.get(String(path[1])) : undefined;
    if (!r) return path;
    const field = String(path[2]);
    const keyed = (KEYED as readonly string[]).includes(field) ? (field as Keyed) : undefined;
    const owner =
      (keyed && path.length >= 4 ? r.keyOwners[keyed].get(String(path[3])) : undefined) ??
      r.owners.get(field);
    return owner ? [...owner, ...path.slice(2)] : path;
  };
  return { webhooks: merged, origin, issues };
}

/**
 * One webhook (as the admin API takes it) with the config's presets applied, as the loader applies
 * them; the entry unchanged when it names no preset. An unknown preset or a loop is returned as the
 * issue instead.
 *
 * @example withPreset({ extends: "crm-base", url: "https://crm.example.com/c" }, config.presets)
 */
export function withPreset(entry: unknown, presets: unknown): { value: unknown } | { issue: PresetIssue } {
  const r = resolveWebhooks(presets, { entry });
  if (Object.hasOwn(r.webhooks, "entry")) return { value: r.webhooks.entry };
  return { issue: r.issues.find((i) => i.path[0] === "webhooks") ?? r.issues[0]! };
}
