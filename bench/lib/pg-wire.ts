// Counts what this process sends to a Postgres server on the wire: statements run (a simple-protocol
// `Query` or an extended-protocol `Execute` message each) and bytes. Every client library here writes
// through `net.Socket` (postgres.js, and pg under graphile-worker and pg-boss), so one count serves
// every leg alike, and it needs no pg_stat_statements on the server. A multi-statement simple query
// counts as one.
import net from "node:net";

export interface WireCounts {
  statements: number;
  bytes: number;
}

const PARSER = Symbol("pgWire");
// StartupMessage (protocol 3.0), SSLRequest, GSSENCRequest, CancelRequest: untyped first messages.
const UNTYPED = new Set([196_608, 80_877_103, 80_877_104, 80_877_102]);
const QUERY = 0x51; // 'Q'
const EXECUTE = 0x45; // 'E'

/** Follows one socket's frontend stream across writes: the untyped start-up, then typed messages. */
class FrontendStream {
  private readonly head = Buffer.alloc(8);
  private have = 0;
  private skip = 0;
  private started = false;

  constructor(private readonly totals: WireCounts) {}

  feed(chunk: Uint8Array): void {
    this.totals.bytes += chunk.length;
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const want = this.started ? 5 : 8;
      const n = Math.min(want - this.have, chunk.length - i);
      this.head.set(chunk.subarray(i, i + n), this.have);
      this.have += n;
      i += n;
      if (this.have < want) return;
      this.have = 0;
      if (!this.started) {
        const code = this.head.readInt32BE(4);
        if (UNTYPED.has(code)) {
          this.skip = this.head.readInt32BE(0) - 8;
          // After an SSLRequest or GSSENCRequest the real start-up message follows.
          this.started = code === 196_608;
          continue;
        }
        // Joined after the start-up (the socket's first write went unseen): these 8 bytes are typed.
        this.started = true;
        this.count(this.head[0]!);
        this.skip = this.head.readInt32BE(1) - 7;
      } else {
        this.count(this.head[0]!);
        this.skip = this.head.readInt32BE(1) - 4;
      }
    }
  }

  private count(type: number): void {
    if (type === QUERY || type === EXECUTE) this.totals.statements++;
  }
}

let totals: WireCounts | undefined;

/**
 * Starts counting writes to sockets connected to `port` (once per process); `read()` gives the running
 * totals, so a leg's share is the difference between two reads.
 *
 * @example const wire = countPostgresWire(5432); const a = wire.read(); … ; wire.read().statements - a.statements
 */
export function countPostgresWire(port: number): { read(): WireCounts } {
  if (!totals) {
    const counted: WireCounts = { statements: 0, bytes: 0 };
    totals = counted;
    const write = net.Socket.prototype.write;
    net.Socket.prototype.write = function (this: net.Socket & { [PARSER]?: FrontendStream | null }, ...args) {
      let stream = this[PARSER];
      if (stream === undefined && this.remotePort !== undefined)
        stream = this[PARSER] = this.remotePort === port ? new FrontendStream(counted) : null;
      const chunk = args[0];
      if (stream)
        stream.feed(
          typeof chunk === "string"
            ? Buffer.from(chunk, typeof args[1] === "string" ? (args[1] as BufferEncoding) : "utf8")
            : chunk,
        );
      return (write as (...a: unknown[]) => boolean).apply(this, args);
    } as typeof write;
  }
  const t = totals;
  return { read: () => ({ ...t }) };
}
