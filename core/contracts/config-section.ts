import type { z } from "zod";

/** A top-level config section contributed by a plugin (e.g. `inbound:`), validated by its schema. */
export interface ConfigSection<T = unknown> {
  readonly key: string;
  readonly schema: z.ZodType<T>;
}
