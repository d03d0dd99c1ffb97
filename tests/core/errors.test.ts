import { describe, expect, it } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ts from "typescript";
import { TransportError } from "../../core/contracts/transport.ts";
import {
  defineErrorCodes,
  ErrorCodes,
  HooklineError,
  HttpError,
  HttpErrorCodes,
  TemplateError,
} from "../../core/errors.ts";
import { OAuthError } from "../../plugins/oauth2/errors.ts";

const root = join(import.meta.dir, "../..");

/** Every .ts file under the folders the package ships. */
function sources(): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith(".ts")) out.push({ file: rel, text: readFileSync(join(root, rel), "utf8") });
    }
  };
  for (const dir of ["core", "plugins", "adapters", "edge"]) walk(dir);
  return out;
}

describe("the error catalogue", () => {
  it("holds every HOOKLINE_* code a source file names as a string literal", () => {
    const missing: string[] = [];
    for (const { file, text } of sources())
      for (const [, code] of text.matchAll(/["'](HOOKLINE_[A-Z0-9_]+)["']/g))
        if (!Object.hasOwn(ErrorCodes, code!)) missing.push(`${file}: ${code}`);
    expect(missing).toEqual([]);
  });

  it("holds every code built at run time, which only TransportError and OAuthError may do", () => {
    // A type may name a family (`HOOKLINE_HTTP_${string}`); only a value's template builds a code.
    const built = sources().flatMap(({ file, text }) =>
      [...text.matchAll(/`(HOOKLINE_[A-Z0-9_]*)\$\{(?!string\}|Uppercase<)/g)].map((m) => `${file}: ${m[1]}`),
    );
    // A new family built from a template would need its members checked here.
    const families = ["HOOKLINE_TRANSPORT_", "HOOKLINE_OAUTH_"];
    expect(built.filter((b) => !families.includes(b.split(": ")[1]!))).toEqual([]);
    const faults = [
      "timeout",
      "connection_refused",
      "connection_reset",
      "dns",
      "tls",
      "blocked_address",
      "network",
    ];
    const oauth = [
      "invalid_request",
      "invalid_client",
      "invalid_grant",
      "unauthorized_client",
      "unsupported_grant_type",
      "invalid_scope",
      "access_denied",
      "server_error",
      "temporarily_unavailable",
      "something_else",
    ];
    const codes = [
      ...faults.map((f) => new TransportError(f as never, "x").code),
      ...oauth.map((o) => new OAuthError(o, "x", { status: 400 }).code),
    ];
    expect(codes.filter((c) => !Object.hasOwn(ErrorCodes, c))).toEqual([]);
  });

  it("gives every code an HTTP status and a one-line meaning", () => {
    for (const [code, { status, summary }] of Object.entries(ErrorCodes)) {
      expect([code, Number.isInteger(status) && status >= 200 && status <= 599]).toEqual([code, true]);
      expect([code, summary.length > 10 && !summary.includes("\n")]).toEqual([code, true]);
    }
  });

  it("is listed whole in docs/errors.md, each code with its status and meaning", () => {
    const doc = readFileSync(join(root, "docs/errors.md"), "utf8");
    const rows: Record<string, { status: number; summary: string }> = {};
    for (const [, code, status, summary] of doc.matchAll(
      /^\|\s*`(HOOKLINE_[A-Z0-9_]+)`\s*\|\s*(\d+)\s*\|\s*(.*?)\s*\|$/gm,
    ))
      rows[code!] = { status: Number(status), summary: summary!.replaceAll("\\|", "|") };
    expect(rows).toEqual(ErrorCodes);
  });
});

describe("errors raised with a code", () => {
  it("answer with the catalogue's status, unless the error says its own", () => {
    expect(new HttpError("HOOKLINE_HTTP_NOT_FOUND", "no delivery x").status).toBe(404);
    expect(new HttpError("HOOKLINE_SECRET_KEY_MISSING", "no key").status).toBe(503);
    const managed = new HttpError("HOOKLINE_MANAGED", "in use", { status: 409 });
    expect([managed.status, managed.code]).toEqual([409, "HOOKLINE_MANAGED"]);
    expect(HttpErrorCodes.HOOKLINE_HTTP_TOO_LARGE).toBe(413);
    expect(HttpErrorCodes.HOOKLINE_STORE_UNAVAILABLE).toBe(503);
    expect(Object.keys(HttpErrorCodes).every((c) => c.startsWith("HOOKLINE_HTTP_") || c in ErrorCodes)).toBe(
      true,
    );
  });

  it("keeps the code a TemplateError is given", () => {
    expect(new TemplateError("x").code).toBe("HOOKLINE_TEMPLATE");
    expect(new TemplateError("x", { code: "HOOKLINE_TEMPLATE_NOT_PRECOMPILED" }).code).toBe(
      "HOOKLINE_TEMPLATE_NOT_PRECOMPILED",
    );
  });

  it("lets a plugin define its own codes, each with a status and a meaning, under its own prefix", () => {
    const Acme = defineErrorCodes({
      ACME_QUOTA: { status: 429, summary: "the Acme account is over its monthly quota" },
    });
    const e = new HttpError(Acme.ACME_QUOTA, "account 7 is over its quota");
    expect([e.code, e.status, e instanceof HooklineError]).toEqual(["ACME_QUOTA", 429, true]);
    expect(e.code === Acme.ACME_QUOTA.code).toBe(true);
    // Raised again with more said, the code stays.
    expect(new HooklineError(e.code, "while importing").code).toBe("ACME_QUOTA");
    expect(() => defineErrorCodes({ HOOKLINE_MINE: { status: 400, summary: "x" } } as never)).toThrow(
      /not under HOOKLINE_/,
    );
    expect(() => defineErrorCodes({ acme_quota: { status: 400, summary: "x" } })).toThrow(/upper snake case/);
    expect(() => defineErrorCodes({ ACME_X: { status: 42, summary: "x" } })).toThrow(/not an HTTP status/);
  });

  it("fails the typecheck for a misspelt code, a bare string, or a plugin code under HOOKLINE_", () => {
    const dir = mkdtempSync(join(tmpdir(), "hookline-errors-"));
    try {
      const file = join(dir, "codes.ts");
      writeFileSync(
        file,
        `import { defineErrorCodes, HooklineError, HttpError, TemplateError } from ${JSON.stringify(join(root, "core/errors.ts"))};
new HooklineError("HOOKLINE_NO_STORE", "fine");
new HttpError("HOOKLINE_HTTP_NOT_FOUND", "fine");
const Acme = defineErrorCodes({ ACME_QUOTA: { status: 429, summary: "over quota" } });
new HttpError(Acme.ACME_QUOTA, "fine");
// @ts-expect-error a misspelt code
new HooklineError("HOOKLINE_NO_STORR", "x");
// @ts-expect-error a misspelt code
new HttpError("HOOKLINE_HTTP_NOT_FUOND", "x");
// @ts-expect-error not a template code
new TemplateError("x", { code: "HOOKLINE_NO_STORE" });
const any: string = "HOOKLINE_NO_STORE";
// @ts-expect-error a string that is not known to be a code
new HooklineError(any, "x");
// @ts-expect-error HOOKLINE_ is the core's prefix
defineErrorCodes({ HOOKLINE_MINE: { status: 400, summary: "x" } });
// @ts-expect-error a plugin's code is its entry's, not a bare literal
new HooklineError("ACME_QUOTA", "x");
`,
      );
      const program = ts.createProgram([file], {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        allowImportingTsExtensions: true,
        lib: ["lib.es2023.d.ts"],
        types: [],
        skipLibCheck: true,
      });
      const problems = ts
        .getPreEmitDiagnostics(program)
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      expect(problems).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
