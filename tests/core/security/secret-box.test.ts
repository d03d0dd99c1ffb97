import { describe, expect, it } from "bun:test";
import { SecretBox } from "../../../core/security/secret-box.ts";

const key = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

describe("SecretBox", () => {
  it("seals and opens, with the key id in the ciphertext and a fresh IV each time", async () => {
    const box = (await SecretBox.fromEnv(`k1:${key()}`))!;
    const a = await box.seal("s3cret-value", "integration:crm");
    const b = await box.seal("s3cret-value", "integration:crm");
    expect(a).toStartWith("v1.k1.");
    expect(a).not.toBe(b);
    expect(a).not.toContain("s3cret");
    expect(await box.open(a, "integration:crm")).toBe("s3cret-value");
  });

  it("refuses a ciphertext moved to another place or altered", async () => {
    const box = (await SecretBox.fromEnv(key()))!;
    const sealed = await box.seal("x", "integration:crm");
    await expect(box.open(sealed, "integration:sms")).rejects.toThrow(/altered or moved/);
    const parts = sealed.split(".");
    parts[3] = parts[3]!.slice(0, -2) + (parts[3]!.endsWith("AA") ? "BB" : "AA");
    await expect(box.open(parts.join("."), "integration:crm")).rejects.toThrow(/altered or moved/);
  });

  it("rotates: a new first key encrypts, old keys still decrypt, a dropped key is named", async () => {
    const oldKey = key();
    const old = (await SecretBox.fromEnv(`old:${oldKey}`))!;
    const sealed = await old.seal("v", "p");
    const rotated = (await SecretBox.fromEnv(`new:${key()},old:${oldKey}`))!;
    expect(await rotated.open(sealed, "p")).toBe("v");
    expect(await rotated.seal("v", "p")).toStartWith("v1.new.");
    const dropped = (await SecretBox.fromEnv(`new:${key()}`))!;
    await expect(dropped.open(sealed, "p")).rejects.toThrow(
      /sealed with key "old", which HOOKLINE_SECRET_KEY does not hold/,
    );
  });

  it("says what is wrong with a bad key, without echoing it", async () => {
    await expect(SecretBox.fromEnv("short-key")).rejects.toThrow(/entry 1 is not a 32-byte key/);
    await expect(SecretBox.fromEnv("short-key")).rejects.not.toThrow(/short-key/);
    expect(await SecretBox.fromEnv("")).toBeUndefined();
  });
});
