import { Hono } from "hono";
import { z } from "zod";
import { type BuiltinPreset, builtinPresets } from "../config/builtin-presets.ts";
import type { AdminApp } from "./admin-app.ts";
import { reply } from "./respond.ts";
import { documented } from "./route-docs.ts";

const PresetParam = z
  .object({
    name: z.string(),
    description: z.string(),
    required: z.boolean().describe("whether a webhook using the preset must give it under params:"),
    default: z.unknown().optional().describe("the value used when the webhook gives none"),
  })
  .strict();

export const PresetEntry = z
  .object({
    name: z.string().describe("what a webhook's `extends:` names"),
    title: z.string(),
    description: z.string(),
    docs: z.string().describe("the destination's documentation the request follows"),
    params: z.array(PresetParam),
    needs: z
      .array(z.object({ field: z.enum(["url", "integration"]), description: z.string() }).strict())
      .describe("fields a webhook using the preset writes itself"),
    preset: z.record(z.string(), z.unknown()).describe("the preset's webhook fields (Eta templates)"),
    example: z.string().describe("a webhook using it, as hookline.yaml writes it"),
  })
  .strict();

export const PresetList = z.object({ presets: z.array(PresetEntry) }).strict();

const view = (p: BuiltinPreset) => ({ ...p, params: p.params.map((x) => ({ ...x })) });

/**
 * The built-in preset gallery (core/config/builtin-presets.ts), read-only: every preset with its
 * parameters, what a webhook must add, the preset's fields and an example, for a console to list
 * and to create webhooks from. Any role that reads may call it.
 *
 * @example http.route("/v1/presets", presetRoutes(app))
 */
export function presetRoutes(app: AdminApp) {
  const r = new Hono();
  const tags = ["Presets"];
  r.get(
    "/",
    documented({
      summary: "List the built-in presets",
      description:
        "The presets hookline ships (a webhook names one with `extends:`), with their parameters and the documentation each follows (docs/presets.md).",
      tags,
      answers: { 200: { description: "the gallery", schema: PresetList } },
    }),
    (c) => reply(app, c, 200, { presets: builtinPresets.map(view) }),
  );
  return r;
}
