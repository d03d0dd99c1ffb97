import { HooklineError } from "../core/errors.ts";

/**
 * What `jose` resolves to in an edge bundle whose config has no endpoint that verifies JWTs
 * (`bearer` with `jwks`): jose is ~18 KB of the bundle. An endpoint defined through the admin API
 * that needs it is then not served by the worker (the registry logs why); `npm run build:edge --
 * --jwt` carries jose whatever the config says.
 */
function absent(): never {
  throw new HooklineError(
    "HOOKLINE_EDGE_NO_JWT",
    "this edge worker was built without JWT verification (no endpoint of its config verifies JWTs with jwks); build it with --jwt to serve such endpoints",
  );
}

/** jose's option key for a JWKS fetch of one's own; inert here, as nothing is fetched. */
export const customFetch: unique symbol = Symbol("customFetch");
export const createLocalJWKSet = absent;
export const createRemoteJWKSet = absent;
export const jwtVerify = absent;
