import { z } from "zod";
import type { HooklineConfig } from "../config/schema.ts";
import { IntegrationBase } from "../config/schema.ts";
import type { AuthProvider } from "../contracts/auth.ts";
import type { ManagedEntries, ManagedRow } from "../contracts/managed-entries.ts";
import type { Redactor } from "../security/redact.ts";
import { issuesOf, ManagedError, split } from "./entries.ts";

/** What exporting and importing use of the admin catalogue (`ManagedConfig` is one). */
export interface Exchanging {
  readonly d: {
    config: HooklineConfig;
    providers: ReadonlyMap<string, AuthProvider>;
    entries: ManagedEntries;
    redactor: Redactor;
  };
  needHttps(what: string, path: string, url: string): void;
  save(
    kind: ManagedRow["kind"],
    name: string,
    spec: object,
    sealed: string | null,
    missing: string[],
  ): Promise<void>;
  activateIntegration(row: ManagedRow): Promise<void>;
  putWebhook(name: string, body: unknown): Promise<void>;
}

/** Every webhook and integration, without any secret; `secretsRequired` lists what an importer must re-enter. */
export async function exportAll(m: Exchanging): Promise<{
  integrations: Record<string, object>;
  webhooks: Record<string, object>;
  secretsRequired: Record<string, string[]>;
}> {
  const integrations: Record<string, object> = {};
  const secretsRequired: Record<string, string[]> = {};
  for (const [name, base] of Object.entries(m.d.config.integrations)) {
    const fields = m.d.providers.get(base.kind)?.secretFields ?? [];
    const [, options] = split(m.d.config.integrationOptions[name] as Record<string, unknown>, fields);
    integrations[name] = {
      kind: base.kind,
      endpointPrefix: base.endpointPrefix,
      test: base.test,
      ...options,
    };
    if (fields.length) secretsRequired[name] = [...fields];
  }
  const rows = await m.d.entries.listByName();
  for (const r of rows.filter((x) => x.kind === "integration")) {
    integrations[r.name] = r.spec;
    const fields = m.d.providers.get(String(r.spec.kind))?.secretFields ?? [];
    if (fields.length) secretsRequired[r.name] = [...fields];
  }
  // Webhooks go out merged with their presets and without `extends`, so that an export stands alone:
  // the instance importing it need not have the same presets.
  const standalone = ({ extends: _, ...w }: Record<string, unknown>) => w;
  const webhooks: Record<string, object> = {};
  for (const [n, w] of Object.entries(m.d.config.webhooks)) webhooks[n] = standalone(w);
  for (const r of rows.filter((x) => x.kind === "webhook")) webhooks[r.name] = standalone(r.spec);
  // Belt and braces: whatever a provider failed to declare, the redactor still masks.
  return m.d.redactor.redactDeep({ integrations, webhooks, secretsRequired });
}

/** Imports an export: integrations arrive without secrets (each says what must be re-entered), webhooks whole. */
export async function importAll(
  m: Exchanging,
  doc: unknown,
): Promise<{
  imported: { integrations: string[]; webhooks: string[] };
  secretsToReenter: Record<string, string[]>;
}> {
  const shape = z.object({
    integrations: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
    webhooks: z.record(z.string(), z.unknown()).default({}),
  });
  const parsed = shape.safeParse(doc);
  if (!parsed.success) throw new ManagedError(400, "invalid export document", issuesOf(parsed.error));
  const secretsToReenter: Record<string, string[]> = {};
  const imported = { integrations: [] as string[], webhooks: [] as string[] };
  for (const [name, spec] of Object.entries(parsed.data.integrations)) {
    if (m.d.config.integrations[name]) continue;
    const base = IntegrationBase.safeParse(spec);
    if (!base.success)
      throw new ManagedError(
        400,
        `integration "${name}" is invalid`,
        issuesOf(base.error, `integrations.${name}`),
      );
    m.needHttps(`integration "${name}"`, `integrations.${name}.endpointPrefix`, base.data.endpointPrefix);
    const provider = m.d.providers.get(base.data.kind);
    if (!provider) throw new ManagedError(400, `integration "${name}": unknown kind "${base.data.kind}"`);
    const missing = [...(provider.secretFields ?? [])];
    const [, publicSpec] = split(spec, missing);
    if (missing.length > 0) secretsToReenter[name] = missing;
    await m.save("integration", name, publicSpec, null, missing);
    await m.activateIntegration({
      kind: "integration",
      name,
      spec: publicSpec,
      sealed: null,
      missing_secrets: missing,
    });
    imported.integrations.push(name);
  }
  for (const [name, spec] of Object.entries(parsed.data.webhooks)) {
    if (m.d.config.webhooks[name]) continue;
    await m.putWebhook(name, spec);
    imported.webhooks.push(name);
  }
  return { imported, secretsToReenter };
}
