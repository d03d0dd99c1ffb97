import type { KeyPath } from "./positions.ts";
import { DEFAULT_ENGINE } from "./templates.ts";

type Entry = Record<string, unknown>;

/**
 * Fields merged key by key (a webhook adds to or overrides its preset's); every other field is
 * replaced whole. `batch` too: a webhook can change a preset's batch size and keep its item template.
 */
const KEYED = ["headers", "params", "batch"] as const;
type Keyed = (typeof KEYED)[number];

/** A preset or webhook with its chain applied, and which entry wrote each field (for error positions). */
interface Resolved {
  fields: Entry;
  /** Field → the entry that wrote it (`["presets", "crm-base"]`). */
  owners: Map<string, KeyPath>;
  /** For headers and params: key → the entry that wrote it. */
  keyOwners: Record<Keyed, Map<string, KeyPath>>;
}

/**
 * A preset that ships with hookline (core/config/builtin-presets.ts): found by `extends` when the
 * file defines no preset of that name. `missing` says what a webhook extending it still has to give.
 */
export interface BuiltinPresetEntry {
  /** The preset's fields, as a `presets:` entry would write them. */
  fields: Entry;
  /**
   * What the merged webhook lacks (a required param, an integration), one message each.
   * `fromPreset("body")` (or `"batch.item"`) says whether that field is still the preset's own.
   */
  missing?(webhook: Entry, fromPreset: (field: string) => boolean): string[];
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
  keyOwners: { headers: new Map(), params: new Map(), batch: new Map() },
};

/** `own` over `base`: a shallow merge, except that headers (case-insensitively), params and batch merge key by key. */
function merge(base: Resolved, ownPath: KeyPath, own: Entry): Resolved {
  const fields: Entry = { ...base.fields };
  const owners = new Map(base.owners);
  const keyOwners = {
    headers: new Map(base.keyOwners.headers),
    params: new Map(base.keyOwners.params),
    batch: new Map(base.keyOwners.batch),
  };
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
 * `headers`, `params` and `batch` merge key by key. A name the file does not define is looked up in
 * `builtins` (the shipped gallery, which the file's presets shadow); a webhook extending a built-in
 * that still lacks what it needs (`missing`) is an issue at its `extends`. An unknown preset is an
 * issue at the `extends` naming it, listing the known ones; a chain that loops is an issue at the
 * `extends` that closes the loop. Entries that are not maps, and `extends` values that are not
 * strings, are left for the schema. A field a built-in preset wrote is reported at the webhook's
 * `extends` (it is written nowhere in the file).
 *
 * @example
 * const r = resolveWebhooks(
 *   { base: { method: "PUT", headers: { "X-Source": "hookline" } } },
 *   { sync: { extends: "base", url: "https://x.example.com", headers: { "X-Id": "1" } } },
 * );
 * r.webhooks.sync // { method: "PUT", headers: { "X-Source": "hookline", "X-Id": "1" }, extends: "base", url: "https://x.example.com" }
 * r.origin(["webhooks", "sync", "method"]) // ["presets", "base", "method"]
 */
export function resolveWebhooks(
  presets: unknown,
  webhooks: unknown,
  builtins: Readonly<Record<string, BuiltinPresetEntry>> = {},
): ResolvedWebhooks {
  const all = isRecord(presets) ? presets : {};
  const issues: PresetIssue[] = [];
  const done = new Map<string, Resolved | null>();
  const resolving: string[] = [];
  const builtin = (name: string) => !Object.hasOwn(all, name) && Object.hasOwn(builtins, name);

  const base = (at: KeyPath, name: unknown): Resolved | null => {
    if (typeof name !== "string") return EMPTY;
    if (builtin(name)) return merge(EMPTY, ["presets", name], builtins[name]!.fields);
    if (!Object.hasOwn(all, name)) {
      const known = Object.keys(all);
      const expected = known.length > 0 ? `expected one of: ${known.join(", ")}` : "no presets are defined";
      const shipped = Object.keys(builtins);
      const also = shipped.length > 0 ? ` (or a built-in preset: ${shipped.join(", ")})` : "";
      issues.push({
        path: [...at, "extends"],
        message: `unknown preset ${JSON.stringify(name)}; ${expected}${also}`,
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
    const shipped = builtinOf(entry.extends);
    if (shipped) {
      const owner = (field: string): KeyPath | undefined => {
        const [top, key] = field.split(".") as [string, string | undefined];
        const keyed = (KEYED as readonly string[]).includes(top) ? (top as Keyed) : undefined;
        return (keyed && key !== undefined ? r.keyOwners[keyed].get(key) : undefined) ?? r.owners.get(top);
      };
      const fromPreset = (field: string) => {
        const o = owner(field);
        return o !== undefined && o[0] === "presets" && o[1] === shipped.name;
      };
      for (const message of shipped.entry.missing?.(r.fields, fromPreset) ?? [])
        issues.push({ path: ["webhooks", name, "extends"], message });
    }
  }

  /** The built-in preset at the end of a chain that starts with `name`, if any. */
  function builtinOf(name: string): { name: string; entry: BuiltinPresetEntry } | undefined {
    const seen = new Set<string>();
    let at: unknown = name;
    while (typeof at === "string" && !seen.has(at)) {
      if (builtin(at)) return { name: at, entry: builtins[at]! };
      seen.add(at);
      const own = all[at];
      at = isRecord(own) ? own.extends : undefined;
    }
    return undefined;
  }

  const origin = (path: KeyPath): KeyPath => {
    const r = path[0] === "webhooks" && path.length >= 3 ? resolved.get(String(path[1])) : undefined;
    if (!r) return path;
    const field = String(path[2]);
    const keyed = (KEYED as readonly string[]).includes(field) ? (field as Keyed) : undefined;
    const owner =
      (keyed && path.length >= 4 ? r.keyOwners[keyed].get(String(path[3])) : undefined) ??
      r.owners.get(field);
    // A built-in preset is written nowhere in the file: what it wrote is reported at the `extends`.
    if (owner?.[0] === "presets" && builtin(String(owner[1]))) return [...path.slice(0, 2), "extends"];
    return owner ? [...owner, ...path.slice(2)] : path;
  };
  return { webhooks: merged, origin, issues };
}

/**
 * One webhook (as the admin API takes it) with the config's presets (and `builtins`, when given)
 * applied, as the loader applies them; the entry unchanged when it names no preset. An unknown
 * preset, a loop or what a built-in preset still needs is returned as the issue instead.
 *
 * @example withPreset({ extends: "crm-base", url: "https://crm.example.com/c" }, config.presets)
 */
export function withPreset(
  entry: unknown,
  presets: unknown,
  builtins?: Readonly<Record<string, BuiltinPresetEntry>>,
): { value: unknown } | { issue: PresetIssue } {
  const r = resolveWebhooks(presets, { entry }, builtins);
  const needs = r.issues.find((i) => i.path[0] === "webhooks");
  if (needs) return { issue: needs };
  if (Object.hasOwn(r.webhooks, "entry")) return { value: r.webhooks.entry };
  return { issue: r.issues.find((i) => i.path[0] === "webhooks") ?? r.issues[0]! };
}

/** A webhook's template fields and where each is (`url`, `headers.X-Id`, `body`, `batch.item`, `orderingKey`). */
export function templatesOf(webhook: Entry): Array<{ path: string; source: string }> {
  const out: Array<{ path: string; source: string }> = [];
  const add = (path: string, v: unknown) => {
    if (typeof v === "string") out.push({ path, source: v });
  };
  add("url", webhook.url);
  for (const [k, v] of Object.entries(isRecord(webhook.headers) ? webhook.headers : {}))
    add(`headers.${k}`, v);
  add("body", webhook.body);
  add("batch.item", isRecord(webhook.batch) ? webhook.batch.item : undefined);
  add("orderingKey", webhook.orderingKey);
  return out;
}

/**
 * The templates the deployment's presets hold, by the engine that runs them: the built-in gallery's
 * (`builtins`) and the config file's `presets:` (each with its chain applied; a file preset shadows a
 * built-in of its name). Both ship with the deployment: code the operator installed, not input.
 *
 * @example presetTemplates(config.presets, BUILTIN_PRESETS).get("eta")?.has(BUILTIN_PRESETS.slack.fields.body)
 */
export function presetTemplates(
  presets: unknown,
  builtins: Readonly<Record<string, BuiltinPresetEntry>> = {},
): Map<string, Set<string>> {
  const names = [...new Set([...Object.keys(isRecord(presets) ? presets : {}), ...Object.keys(builtins)])];
  const { webhooks } = resolveWebhooks(
    presets,
    Object.fromEntries(names.map((n) => [n, { extends: n }])),
    builtins,
  );
  const out = new Map<string, Set<string>>();
  for (const fields of Object.values(webhooks)) {
    if (!isRecord(fields)) continue;
    const engine = typeof fields.engine === "string" ? fields.engine : DEFAULT_ENGINE;
    const known = out.get(engine) ?? new Set<string>();
    for (const t of templatesOf(fields)) known.add(t.source);
    out.set(engine, known);
  }
  return out;
}

/** Eta's only tag opener (hookline's Eta keeps the default tags): text without it renders as itself. */
const ETA_TAG = "<%";
const ETA = "eta";

/**
 * What a code engine (`Renderer.trusted`) may take from the admin API without
 * `engine.allowCodeTemplatesFromApi`, and the first template of `webhook` (merged with its preset)
 * that breaks it: the payload templates (`body`, `batch.item`) must be, character for character, a
 * template of one of the deployment's presets for this engine (`presetTemplates`): an override is
 * refused, even a plain one; `url`, header values and `orderingKey` may also be plain text (for Eta,
 * no `<%`: nothing runs). So `extends: slack` with the webhook's own URL is taken, and so is the
 * export of such a webhook (merged, without `extends`); a template the request wrote is not.
 *
 * @example untrustedTemplate({ url: "https://hooks.slack.com/…", body: "<%= it %>" }, "eta", trusted) // { path: "body", … }
 */
export function untrustedTemplate(
  webhook: Entry,
  engine: string,
  trusted: ReadonlyMap<string, ReadonlySet<string>>,
): { path: string; message: string } | undefined {
  const shipped = trusted.get(engine);
  for (const { path, source } of templatesOf(webhook)) {
    if (shipped?.has(source)) continue;
    const payload = path === "body" || path === "batch.item";
    if (!payload && engine === ETA && !source.includes(ETA_TAG)) continue;
    return {
      path,
      message: payload
        ? `${path} is not a preset's template (the request writes its own)`
        : `${path} is a template the request wrote (${engine === ETA ? `it holds ${ETA_TAG}` : "not plain text"}), not a preset's`,
    };
  }
  return undefined;
}
