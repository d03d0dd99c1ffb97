// The edge worker's entry: `npm run build:edge` supplies the three build-time modules (the config,
// checked and embedded as data; its Eta templates precompiled; the plugins it names) and bundles this.
import config from "hookline:edge/config";
import plugins from "hookline:edge/plugins";
import templates from "hookline:edge/templates";
import { edgeWorker } from "./worker-app.ts";

export default edgeWorker({ config, templates, plugins });
