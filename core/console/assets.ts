import { Hono } from "hono";
import { HttpError } from "../errors.ts";
import { cachedReader, readPackageFile } from "../http/api-reference.ts";
import { documented } from "../http/route-docs.ts";
import { CONSOLE_CSS } from "./style.ts";

// htmx comes from the htmx.org package, read from node_modules when first asked for (as the API
// reference reads swagger-ui-dist): nothing from a CDN, nothing built at install.
const PACKAGE_FILES: Readonly<Record<string, { specifier: string; type: string }>> = {
  "htmx.min.js": { specifier: "htmx.org/dist/htmx.min.js", type: "text/javascript; charset=utf-8" },
};

/**
 * `GET /console/assets/:file`: htmx from its package and the console's stylesheet, both cached by
 * the browser for a day.
 *
 * @example consoleRouter.route("/assets", consoleAssets())
 */
export function consoleAssets(read: (specifier: string) => Promise<Uint8Array> = readPackageFile) {
  const r = new Hono();
  const file = cachedReader(read);
  const cache = { "cache-control": "public, max-age=86400" };
  r.get(
    "/:file",
    documented({
      summary: "A script or style of the console",
      tags: ["Console"],
      public: true,
      params: { file: `one of console.css, ${Object.keys(PACKAGE_FILES).join(", ")}` },
      answers: { 200: { description: "the file" } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND"],
    }),
    async (c) => {
      const name = c.req.param("file");
      if (name === "console.css")
        return c.body(CONSOLE_CSS, 200, { ...cache, "content-type": "text/css; charset=utf-8" });
      const asset = PACKAGE_FILES[name];
      if (!asset) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no asset ${name}`);
      return c.body((await file(asset.specifier)) as Uint8Array<ArrayBuffer>, 200, {
        ...cache,
        "content-type": asset.type,
      });
    },
  );
  return r;
}
