import { describe, expect, it } from "bun:test";
import { z } from "zod";
import { configJsonSchema } from "../../../core/config/json-schema.ts";
import { registry } from "./fakes.ts";

// Round-trips through zod's JSON Schema reader, so that the test checks what a validator would accept.
const validator = () => z.fromJSONSchema(configJsonSchema(registry()) as z.core.JSONSchema.JSONSchema);

const integration = {
  kind: "basic",
  endpointPrefix: "https://crm.example.com",
  username: "u",
  password: "p",
};

describe("configJsonSchema", () => {
  it("accepts an integration with the registered kind's fields", () => {
    expect(validator().safeParse({ integrations: { crm: integration } }).success).toBe(true);
  });

  it("rejects an integration missing or adding fields its kind does not allow", () => {
    const { password: _, ...noPassword } = integration;
    expect(validator().safeParse({ integrations: { crm: noPassword } }).success).toBe(false);
    expect(validator().safeParse({ integrations: { crm: { ...integration, token: "x" } } }).success).toBe(
      false,
    );
    expect(validator().safeParse({ integrations: { crm: { ...integration, kind: "oauth2" } } }).success).toBe(
      false,
    );
  });

  it("names each kind as a constant and keeps the core's descriptions", () => {
    const schema = configJsonSchema(registry()) as any;
    const options = schema.properties.integrations.additionalProperties.anyOf;
    expect(options.map((o: any) => o.properties.kind.const)).toEqual(["basic", "headers"]);
    expect(options[0].properties.endpointPrefix.description).toBe(
      "credentials are sent only to URLs under this prefix",
    );
  });

  it("accepts triggers by kind (event without `kind`), plugin sections, and durations as written", () => {
    const v = validator();
    const file = {
      engine: { timeout: "10s" },
      webhooks: { w: { url: "https://x.example.com" } },
      triggers: [
        { webhooks: ["w"], event: "contact.updated" },
        { kind: "schedule", webhooks: ["w"], every: 5 },
      ],
      inbound: { path: "/in" },
    };
    expect(v.safeParse(file).success).toBe(true);
    expect(v.safeParse({ ...file, triggers: [{ kind: "schedule", webhooks: ["w"] }] }).success).toBe(false);
    expect(v.safeParse({ ...file, inbound: { path: "/in", extra: 1 } }).success).toBe(false);
    expect(v.safeParse({ ...file, bogus: 1 }).success).toBe(false);
  });
});
