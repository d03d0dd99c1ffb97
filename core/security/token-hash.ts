import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";

const encoder = new TextEncoder();

/**
 * The SHA-256 (hex) under which an API token's secret is stored and looked up: the secrets are 256
 * random bits, so a plain hash is as good as a slow one and costs a microsecond per request.
 *
 * @example tokenHash("hl_viewer_abc…") // "3f0a…"
 */
export const tokenHash = (secret: string): string => bytesToHex(sha256(encoder.encode(secret)));
