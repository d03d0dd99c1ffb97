/** A request as the engine builds it: headers keyed in lower case. */
export interface OutboundRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** A PEM client certificate and unencrypted key, with an optional CA bundle for the server. */
export interface TlsIdentity {
  cert: string;
  key: string;
  ca?: string;
}
