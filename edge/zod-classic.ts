/**
 * zod's classic API, as far as hookline's schemas use it, over `zod/mini`: the edge build resolves
 * `zod` here (scripts/build-edge.ts). Classic zod cannot be tree-shaken (every schema carries every
 * method, and each method pulls in the code it calls: ~190 KB); zod/mini is the same engine behind
 * functions, so parsing, issues and messages are zod's own — only the chainable methods are added
 * here, each written as classic zod writes it (`.min(n, msg)` on a string is `.check(minLength(n, msg))`).
 *
 * A method missing here fails the edge worker at start-up ("….x is not a function"); the workerd
 * leg and tests/edge/config.test.ts load every schema the edge carries through this module.
 */
import * as m from "zod/mini";
import en from "zod/v4/locales/en.js";

// What classic zod installs on first use: English messages, and cycle support for containers.
m.config(en());
m.config({ memoizer: m.memoizer() });

type Schema = m.ZodMiniType & Record<string, any>;
/** The params (message, options) of one of zod/mini's checks. */
type P<F extends (...args: never[]) => unknown> = Parameters<F>[1];

/** Methods every classic schema has (those hookline's schemas call). */
const common: Record<string, (this: Schema, ...args: any[]) => unknown> = {
  optional() {
    return m.optional(this);
  },
  nullable() {
    return m.nullable(this);
  },
  nullish() {
    return m.nullish(this);
  },
  default(value: unknown) {
    return m._default(this, value as never);
  },
  array() {
    return m.array(this);
  },
  or(other: Schema) {
    return m.union([this, other]);
  },
  pipe(target: Schema) {
    return m.pipe(this, target);
  },
  transform(fn: (value: unknown) => unknown) {
    return m.pipe(this, m.transform(fn));
  },
  refine(check: (value: unknown) => unknown, params?: P<typeof m.refine>) {
    return this.check(m.refine(check, params));
  },
  superRefine(refinement: Parameters<typeof m.superRefine>[0]) {
    return this.check(m.superRefine(refinement));
  },
  describe(description: string) {
    const clone = this.clone();
    m.globalRegistry.add(clone, { description });
    return clone;
  },
};

/** `.min`/`.max` as classic zod reads them: a length for strings and arrays, a bound for numbers. */
const lengths = {
  min(this: Schema, n: number, params?: P<typeof m.minLength>) {
    return this.check(m.minLength(n, params));
  },
  max(this: Schema, n: number, params?: P<typeof m.maxLength>) {
    return this.check(m.maxLength(n, params));
  },
};
const sizes = {
  min(this: Schema, n: number, params?: P<typeof m.minSize>) {
    return this.check(m.minSize(n, params));
  },
  max(this: Schema, n: number, params?: P<typeof m.maxSize>) {
    return this.check(m.maxSize(n, params));
  },
};

const byClass: Array<[{ prototype: object }, Record<string, (this: Schema, ...args: any[]) => unknown>]> = [
  [
    m.ZodMiniString,
    {
      ...lengths,
      regex(pattern: RegExp, params?: P<typeof m.regex>) {
        return this.check(m.regex(pattern, params));
      },
    },
  ],
  [m.ZodMiniURL, lengths],
  [m.ZodMiniISODateTime, lengths],
  [
    m.ZodMiniNumber,
    {
      min(n: number, params?: P<typeof m.gte>) {
        return this.check(m.gte(n, params));
      },
      max(n: number, params?: P<typeof m.lte>) {
        return this.check(m.lte(n, params));
      },
      int(params?: Parameters<typeof m.int>[0]) {
        return this.check(m.int(params));
      },
      positive(params?: Parameters<typeof m.positive>[0]) {
        return this.check(m.positive(params));
      },
      nonnegative(params?: Parameters<typeof m.nonnegative>[0]) {
        return this.check(m.nonnegative(params));
      },
    },
  ],
  [m.ZodMiniArray, lengths],
  [m.ZodMiniRecord, sizes],
  [
    m.ZodMiniObject,
    {
      strict() {
        // As classic zod: the definition copied property by property (getters stay getters).
        const def = Object.getOwnPropertyDescriptors(this._zod.def);
        const catchall = { value: m.never(), enumerable: true, writable: true, configurable: true };
        return this.clone(Object.defineProperties({} as m.core.$ZodTypeDef, { ...def, catchall }));
      },
    },
  ],
  [m.ZodMiniBoolean, {}],
  [m.ZodMiniUnknown, {}],
  [m.ZodMiniEnum, {}],
  [m.ZodMiniLiteral, {}],
  [m.ZodMiniUnion, {}],
  [m.ZodMiniDiscriminatedUnion, {}],
  [m.ZodMiniPipe, {}],
  [m.ZodMiniOptional, { unwrap: unwrapInner }],
  [m.ZodMiniNullable, { unwrap: unwrapInner }],
  [m.ZodMiniDefault, { unwrap: unwrapInner }],
];

function unwrapInner(this: Schema) {
  return (this._zod.def as { innerType?: unknown }).innerType;
}

// Non-enumerable on each class's prototype: found through the prototype chain, never copied per instance.
for (const [cls, own] of byClass) {
  for (const [name, fn] of Object.entries({ ...common, ...own }))
    Object.defineProperty(cls.prototype, name, { value: fn, writable: true, configurable: true });
  Object.defineProperty(cls.prototype, "description", {
    get(this: Schema) {
      return m.globalRegistry.get(this)?.description;
    },
    configurable: true,
  });
}

/** The `z` of `import { z } from "zod"`, for the edge bundle. */
export const z = {
  object: m.object,
  strictObject: m.strictObject,
  looseObject: m.looseObject,
  string: m.string,
  number: m.number,
  boolean: m.boolean,
  literal: m.literal,
  enum: m.enum,
  union: m.union,
  discriminatedUnion: m.discriminatedUnion,
  array: m.array,
  record: m.record,
  unknown: m.unknown,
  url: m.url,
  iso: { datetime: m.iso.datetime },
  // `field instanceof z.ZodDefault` (core/config/schema.ts, building presets from webhooks).
  ZodDefault: m.ZodMiniDefault,
};
