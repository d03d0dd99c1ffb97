import { z } from "zod";
import { TransportError } from "../../core/plugin/index.ts";
import { MtlsError } from "./pem.ts";

/** Reads a file (the runtime adapter supplies it); may answer synchronously or not. */
export type ReadFile = (path: string) => string | Uint8Array | Promise<string | Uint8Array>;

/** PEM material given inline (a string, or `{ pem }`), as a file path, or as an https URL. */
export const PemSource = z.union([
  z.string().min(1).describe("PEM text"),
  z.object({ pem: z.string().min(1) }).strict(),
  z.object({ file: z.string().min(1).describe("a path the runtime adapter's readFile reads") }).strict(),
  z
    .object({
      url: z
        .url({ protocol: /^https$/, error: "an https:// URL" })
        .describe("fetched through the app's transport"),
    })
    .strict(),
]);
export type PemSource = z.output<typeof PemSource>;

export interface SourceIo {
  readFile?: ReadFile;
  fetch: (request: Request) => Promise<Response>;
}

const text = (v: string | Uint8Array) => (typeof v === "string" ? v : new TextDecoder().decode(v));

/**
 * The PEM text of a source: inline text at once, a file through `readFile` (synchronously when the
 * reader is), a URL through the app's transport. Failures throw `MtlsError` `HOOKLINE_MTLS_SOURCE`
 * naming the field; a URL that got no answer throws `TransportError` (worth trying again).
 *
 * @example const pem = await resolveSource({ file: "/etc/hookline/client.pem" }, "certificate", io);
 */
export function resolveSource(source: PemSource, field: string, io: SourceIo): string | Promise<string> {
  if (typeof source === "string") return source;
  if ("pem" in source) return source.pem;
  if ("file" in source) {
    const { readFile } = io;
    if (!readFile)
      throw new MtlsError(
        "HOOKLINE_MTLS_SOURCE",
        field,
        `cannot read ${source.file}: this app was made without a file reader (pass mtls({ readFile }); runtime adapters do)`,
      );
    const failed = (e: unknown): never => {
      throw new MtlsError(
        "HOOKLINE_MTLS_SOURCE",
        field,
        `cannot read ${source.file}: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    };
    let read: ReturnType<ReadFile>;
    try {
      read = readFile(source.file);
    } catch (e) {
      return failed(e);
    }
    return read instanceof Promise ? read.then(text, failed) : text(read);
  }
  return fetchPem(source.url, field, io.fetch);
}

async function fetchPem(url: string, field: string, fetch: SourceIo["fetch"]): Promise<string> {
  const shown = `${new URL(url).origin}${new URL(url).pathname}`;
  let response: Response;
  try {
    response = await fetch(
      new Request(url, { headers: { accept: "application/x-pem-file, text/plain, */*" } }),
    );
  } catch (e) {
    if (e instanceof TransportError)
      throw new TransportError(e.faultClass, `${field}: fetching ${shown}: ${e.message}`, { cause: e });
    throw new MtlsError("HOOKLINE_MTLS_SOURCE", field, `cannot fetch ${shown}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const body = await response.text();
  if (response.status >= 500 || response.status === 429)
    throw new TransportError("network", `${field}: ${shown} answered HTTP ${response.status}`);
  if (response.status !== 200)
    throw new MtlsError(
      "HOOKLINE_MTLS_SOURCE",
      field,
      `${shown} answered HTTP ${response.status}, expected 200 with PEM text`,
    );
  return body;
}
