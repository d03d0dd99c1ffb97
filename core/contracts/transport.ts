import { type ErrorCode, HooklineError } from "../errors.ts";
import type { OutboundRequest, TlsIdentity } from "./http.ts";

export interface TransportRequest extends OutboundRequest {
  timeoutMs: number;
  /** At most this many bytes of the response body are read and kept; the rest is discarded. */
  maxResponseBytes: number;
  tls?: TlsIdentity;
  signal?: AbortSignal;
}

export interface TransportResponse {
  status: number;
  /** Response headers, names in lower case. */
  headers: Record<string, string>;
  /** The body decoded as UTF-8, cut at `maxResponseBytes`. */
  body: string;
  /** True when the body was longer than `maxResponseBytes`. */
  truncated: boolean;
}

/** Why a request got no HTTP answer. */
export type FaultClass =
  | "timeout"
  | "connection_refused"
  | "connection_reset"
  | "dns"
  | "tls"
  | "blocked_address"
  | "network";

/** A request that got no HTTP answer; `faultClass` says why. */
export class TransportError extends HooklineError {
  readonly faultClass: FaultClass;
  constructor(faultClass: FaultClass, message: string, options?: { cause?: unknown }) {
    // Every fault class has its code in the catalogue (HOOKLINE_TRANSPORT_TIMEOUT …).
    super(`HOOKLINE_TRANSPORT_${faultClass.toUpperCase()}` as ErrorCode, message, options);
    this.name = "TransportError";
    this.faultClass = faultClass;
  }
}

/**
 * Sends one rendered request and returns the response. Redirects are never followed; retries are the
 * engine's. Throws `TransportError` when no HTTP answer came.
 */
export interface Transport {
  readonly name: string;
  send(request: TransportRequest): Promise<TransportResponse>;
  close?(): Promise<void>;
}

/** What a transport needs from the app: the SSRF guard to apply to every address it connects to. */
export interface TransportDeps {
  guard: {
    check(ip: string): { allowed: true } | { allowed: false; reason: string };
    isIpLiteral(host: string): boolean;
  };
}

/** Runtime adapters register one of these to give the app their fastest transport. */
export type TransportFactory = (deps: TransportDeps) => Transport;
