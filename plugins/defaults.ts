import { type Plugin, Tokens } from "../core/plugin/index.ts";
import { activityCallbacks } from "./activity-callbacks/index.ts";
import { apikey } from "./apikey/index.ts";
import { basic } from "./basic/index.ts";
import { bearer } from "./bearer/index.ts";
import { eta } from "./eta/index.ts";
import { headers } from "./headers/index.ts";
import { inbound } from "./inbound/index.ts";
import { jinja } from "./jinja/index.ts";
import { mtls, type ReadFile } from "./mtls/index.ts";
import { mustache } from "./mustache/index.ts";
import { oauth2 } from "./oauth2/index.ts";
import { lazyDriver, pgliteDriver } from "./pglite/index.ts";
import { postgresDriver } from "./postgres/index.ts";
import { responsys } from "./responsys/index.ts";
import { schedule } from "./schedule/index.ts";
import { signature } from "./signature/index.ts";
import { velocity } from "./velocity/index.ts";

/**
 * The store the config and environment ask for: postgres.js when `store.url` or `DATABASE_URL` is
 * set, otherwise PGlite in `store.dataDir`, `HOOKLINE_DATA_DIR` or `.hookline/`.
 *
 * @example createHookline({ plugins: [...defaultPlugins()] })
 */
export const storeFromConfig = (): Plugin => ({
  name: "store-from-config",
  register(container) {
    container.register(Tokens.SqlDriver, {
      useFactory: (c) => {
        const config = c.resolve(Tokens.Config);
        const env = c.resolve(Tokens.Env);
        const url = config.store.url ?? env.DATABASE_URL;
        if (url) return postgresDriver({ url });
        const dataDir = config.store.dataDir ?? env.HOOKLINE_DATA_DIR ?? ".hookline";
        return lazyDriver(() => pgliteDriver({ dataDir }), "pglite");
      },
    });
  },
});

/**
 * The plugins `hookline serve` composes by default: the renderers (Eta, and the sandboxed Velocity,
 * Jinja and Mustache that admin-API webhooks may use), every authentication kind, the inbound receivers
 * and the activity-status sender, schedule triggers, and the store the config asks for. `readFile` (from the runtime adapter) lets mTLS read certificates from files.
 */
export const defaultPlugins = (options: { readFile?: ReadFile } = {}): Plugin[] => [
  eta(),
  velocity(),
  jinja(),
  mustache(),
  basic(),
  headers(),
  oauth2(),
  responsys(),
  mtls({ readFile: options.readFile }),
  apikey(),
  bearer(),
  signature(),
  inbound(),
  activityCallbacks(),
  schedule(),
  storeFromConfig(),
];
