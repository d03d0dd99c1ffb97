import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

/** The parts of an OpenAPI 3.1 document these checks read. */
export interface OpenApiDoc {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        responses?: Record<
          string,
          {
            description?: string;
            content?: Record<string, { schema?: object }>;
            headers?: Record<string, unknown>;
          }
        >;
        requestBody?: { content?: Record<string, { schema?: object }> };
        parameters?: Array<{ in: string; name: string; schema?: object }>;
      }
    >
  >;
  components?: Record<string, unknown>;
}

/** A route as hono lists it (`app.routes`). */
export interface MountedRoute {
  method: string;
  path: string;
}

/** A hono path as the document writes it: `/v1/webhooks/:name` → `/v1/webhooks/{name}`, `/in/*` → `/in`. */
const templateOfRoute = (path: string) =>
  path.replace(/\/\*$/, "").replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?\??/g, "{$1}") || "/";

/**
 * The routes an app mounts that the document does not name, as `METHOD path`: a route of one method
 * needs that operation at its path; a route of every method under a wildcard (`ALL /in/*`, a
 * middleware's `ALL /v1/*`) needs at least one operation below its prefix.
 *
 * @example expect(undocumented(app.http.routes, doc)).toEqual([])
 */
export function undocumented(routes: readonly MountedRoute[], doc: OpenApiDoc): string[] {
  const missing = new Set<string>();
  const paths = Object.keys(doc.paths);
  for (const r of routes) {
    const template = templateOfRoute(r.path);
    if (r.method === "ALL") {
      if (!r.path.endsWith("*")) {
        if (!doc.paths[template]) missing.add(`${r.method} ${r.path}`);
        continue;
      }
      const prefix = template === "/" ? "/" : `${template}/`;
      if (!paths.some((p) => p.startsWith(prefix))) missing.add(`${r.method} ${r.path}`);
      continue;
    }
    if (!doc.paths[template]?.[r.method.toLowerCase()]) missing.add(`${r.method} ${r.path}`);
  }
  return [...missing];
}

/** The document's path template a request path falls under (`/v1/webhooks/contact` → `/v1/webhooks/{name}`). */
export function templateFor(doc: OpenApiDoc, path: string): string | undefined {
  const templates = Object.keys(doc.paths).sort(
    (a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0),
  );
  for (const t of templates) {
    const pattern = t
      .split("/")
      .map((s) =>
        s.startsWith("{") ? (t.startsWith("/in/") ? ".+" : "[^/]+") : s.replace(/[.*+?^$()|[\]\\]/g, "\\$&"),
      )
      .join("/");
    if (new RegExp(`^${pattern}$`).test(path)) return t;
  }
  return undefined;
}

/** One answer checked against the document: where it was found, and what did not fit. */
export interface AnswerCheck {
  operation: string;
  problems: string[];
}

/**
 * A checker of real answers against the document, with ajv's 2020-12 draft (OpenAPI 3.1's dialect):
 * the answer's status must be documented for its route, and a JSON body must fit that status's schema.
 * `seen` collects `METHOD template status` of every answer checked.
 *
 * @example const checker = answerChecker(doc); const { problems } = checker.check("GET", "/healthz", 200, body, "application/json")
 */
export function answerChecker(doc: OpenApiDoc) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: "openapi", components: doc.components ?? {} });
  const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
  const seen = new Set<string>();
  return {
    seen,
    check(
      method: string,
      path: string,
      status: number,
      body: unknown,
      contentType: string,
      headers: Headers = new Headers(),
    ): AnswerCheck {
      const template = templateFor(doc, path);
      const operation = `${method} ${template ?? path} ${status}`;
      if (!template) return { operation, problems: [`no path of the document matches ${path}`] };
      const op = doc.paths[template]![method.toLowerCase()];
      if (!op) return { operation, problems: [`${method} ${template} is not in the document`] };
      const answer = op.responses?.[String(status)];
      if (!answer)
        return { operation, problems: [`status ${status} is not documented for ${method} ${template}`] };
      seen.add(operation);
      const missing = Object.keys(answer.headers ?? {}).filter((h) => !headers.has(h));
      if (missing.length > 0)
        return { operation, problems: [`documented headers missing: ${missing.join(", ")}`] };
      const isJson = /^application\/json/i.test(contentType);
      const schema = answer.content?.["application/json"]?.schema;
      if (!isJson) {
        const types = Object.keys(answer.content ?? {});
        const type = contentType.split(";")[0]!.trim();
        return {
          operation,
          problems:
            types.length === 0 || types.includes(type) || status === 204
              ? []
              : [`content type ${type} is not one documented (${types.join(", ")})`],
        };
      }
      if (!schema)
        return { operation, problems: [`a JSON body, but no JSON schema documented for ${operation}`] };
      let validate = compiled.get(operation);
      if (!validate) {
        const rooted = JSON.parse(
          JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/'),
        );
        validate = ajv.compile(rooted);
        compiled.set(operation, validate);
      }
      return validate(body)
        ? { operation, problems: [] }
        : {
            operation,
            problems: (validate.errors ?? []).map(
              (e) => `${e.instancePath || "(root)"} ${e.message} ${JSON.stringify(e.params)}`,
            ),
          };
    },
  };
}
