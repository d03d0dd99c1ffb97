import { z } from "zod";
import { unwrap } from "./issues.ts";
import type { ConfigRegistry } from "./load.ts";
import { CoreConfig, IntegrationBase, PresetConfig, TriggerBase, WebhookConfig } from "./schema.ts";

/**
 * The JSON Schema of a whole `hookline.yaml` for the plugins at hand, for editors and CI: each
 * integration is one of the registered kinds (the core's fields merged with the kind's own), each
 * trigger likewise, and plugin sections appear as top-level keys. It describes the file as written
 * (defaults make fields optional, durations accept "10s").
 *
 * A kind whose schema is not an object (a union, say) contributes only the core's fields and a
 * `kind` constant; the loader still checks its options in full.
 *
 * @example
 * const schema = configJsonSchema({ authProviders, triggerKinds, sections, renderers });
 * await Bun.write("hookline.schema.json", JSON.stringify(schema, null, 2));
 */
export function configJsonSchema(registry: ConfigRegistry): object {
  const integrationKey = unwrapRecord(CoreConfig.shape.integrations).keyType;
  const integration = anyOf(
    registry.authProviders.map((p) => merged(IntegrationBase.shape, z.literal(p.kind), p.schema)),
    IntegrationBase,
  );
  const trigger = anyOf(
    registry.triggerKinds.map((k) => {
      // The loader treats an entry without `kind` as an event trigger.
      const kind = k.kind === "event" ? z.literal(k.kind).optional() : z.literal(k.kind);
      return merged(TriggerBase.shape, kind, k.schema);
    }),
    TriggerBase,
  );
  // A webhook that extends a preset may leave out anything, url included: the preset may set it.
  const webhook = z.union([WebhookConfig, PresetConfig.required({ extends: true })]);
  const shape: Record<string, z.core.$ZodType> = {
    ...CoreConfig.shape,
    integrations: z.record(integrationKey, integration).default({}),
    webhooks: z.record(unwrapRecord(CoreConfig.shape.webhooks).keyType, webhook).default({}),
    triggers: z.array(trigger).default([]),
  };
  for (const section of registry.sections) {
    if (!(section.key in CoreConfig.shape)) shape[section.key] = section.schema;
  }
  const file = z.strictObject(shape).meta({ title: "hookline.yaml", description: "hookline configuration" });
  return z.toJSONSchema(file, { io: "input", unrepresentable: "any" });
}

/** The core's fields, then the kind's own; the kind's strictness decides about other keys. */
function merged(base: z.core.$ZodLooseShape, kind: z.ZodType, own: z.core.$ZodType): z.ZodType {
  const inner = unwrap(own);
  const def = inner._zod.def as { type: string; shape?: z.core.$ZodLooseShape; catchall?: z.core.$ZodType };
  if (def.type !== "object" || !def.shape) return z.looseObject({ ...base, kind });
  const object = z.object({ ...base, ...def.shape, kind });
  const described = own instanceof z.ZodType && own.description ? object.describe(own.description) : object;
  return def.catchall ? described.catchall(def.catchall as z.ZodType) : described;
}

function anyOf(options: z.ZodType[], fallback: z.ZodType): z.ZodType {
  if (options.length === 0) return fallback;
  if (options.length === 1) return options[0]!;
  return z.union(options as [z.ZodType, z.ZodType, ...z.ZodType[]]);
}

function unwrapRecord(schema: z.core.$ZodType): z.ZodRecord<z.ZodType<string, string>, z.ZodType> {
  return unwrap(schema) as unknown as z.ZodRecord<z.ZodType<string, string>, z.ZodType>;
}
