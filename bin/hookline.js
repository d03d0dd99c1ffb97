#!/usr/bin/env node
// The published command runs the compiled JS (npm ci / npm install build it through `prepare`).
import { main } from "../dist/adapters/node/cli.js";

await main();
