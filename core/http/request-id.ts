/** What a caller's `X-Request-Id` may be to be kept: 1–128 of letters, digits and `._:@/+=-`. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * A request's id: the caller's `X-Request-Id` when it is sane, else a new UUID. The servers
 * (`withRequestId`) and the edge worker decide it alike.
 *
 * @example const id = requestIdFrom(request.headers.get("x-request-id"))
 */
export const requestIdFrom = (incoming: string | null | undefined): string =>
  incoming && SANE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
