import { Hono } from "hono";
import { HttpError } from "../errors.ts";
import { documented } from "./route-docs.ts";

// The reference page is Swagger UI from the swagger-ui-dist package (no dependencies of its own, and
// a bundle that needs nothing from the network), read from node_modules when first asked for and
// served by this app: the page works offline, behind a firewall, on every runtime the server runs on.

/** The files of swagger-ui-dist the page loads, with their content types. */
const ASSETS: Readonly<Record<string, string>> = {
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui.css": "text/css; charset=utf-8",
  "favicon-32x32.png": "image/png",
};

// Paths relative to /docs, so that the page works under a proxy's path prefix too.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hookline API reference</title>
<link rel="icon" href="docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="docs/assets/swagger-ui.css">
</head>
<body>
<div id="reference"></div>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script src="docs/assets/start.js"></script>
</body>
</html>
`;

// validatorUrl null: Swagger UI would otherwise send the document to validator.swagger.io for a badge.
const START = `window.ui = SwaggerUIBundle({
  url: new URL("openapi.json", document.baseURI).href,
  dom_id: "#reference",
  validatorUrl: null,
  deepLinking: true,
  docExpansion: "list",
  tryItOutEnabled: false,
  persistAuthorization: false
});
`;

/**
 * Reads a file of an installed package. Node, Bun and Deno (the runtimes the full server runs on)
 * each read files through `node:fs`; it is imported on first use, so nothing else of the app needs it.
 */
export async function readPackageFile(specifier: string): Promise<Uint8Array> {
  const { readFile } = await import("node:fs/promises");
  return readFile(new URL(import.meta.resolve(specifier)));
}

/**
 * `read`, each file read once and kept (a failed read is tried again next time): the pages' assets
 * are a few files of installed packages that do not change while the process runs.
 *
 * @example const file = cachedReader(readPackageFile); await file("htmx.org/dist/htmx.min.js");
 */
export function cachedReader(read: (specifier: string) => Promise<Uint8Array>) {
  const cache = new Map<string, Promise<Uint8Array>>();
  return (specifier: string): Promise<Uint8Array> => {
    let bytes = cache.get(specifier);
    if (!bytes) {
      bytes = read(specifier);
      cache.set(specifier, bytes);
      bytes.catch(() => cache.delete(specifier));
    }
    return bytes;
  };
}

/**
 * `GET /docs`: the API reference page over `GET /openapi.json`, its scripts and styles served from
 * here (`/docs/assets/*`), none from elsewhere.
 *
 * @example http.route("/docs", apiReference())
 */
export function apiReference(read: (specifier: string) => Promise<Uint8Array> = readPackageFile) {
  const r = new Hono();
  const file = cachedReader(read);
  const tag = { tags: ["Reference"], public: true } as const;

  r.get(
    "/",
    documented({
      ...tag,
      summary: "The API reference page",
      description: "Swagger UI over /openapi.json; every script and style it loads is served by this server.",
      answers: { 200: { description: "an HTML page" } },
    }),
    (c) => c.html(PAGE),
  );

  r.get(
    "/assets/:file",
    documented({
      ...tag,
      summary: "A script or style of the reference page",
      params: { file: `one of ${[...Object.keys(ASSETS), "start.js"].join(", ")}` },
      answers: { 200: { description: "the file" } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND"],
    }),
    async (c) => {
      const name = c.req.param("file");
      if (name === "start.js") return c.body(START, 200, { "content-type": ASSETS["swagger-ui-bundle.js"]! });
      const type = ASSETS[name];
      if (!type) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no asset ${name}`);
      return c.body((await file(`swagger-ui-dist/${name}`)) as Uint8Array<ArrayBuffer>, 200, {
        "content-type": type,
        "cache-control": "public, max-age=86400",
      });
    },
  );
  return r;
}
