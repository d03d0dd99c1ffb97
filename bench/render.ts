/**
 * Render benchmark: the framework's renders/s (a `Renderer`'s `compile` once, then
 * `compiled.render(context)`, as the delivery engine calls it) ÷ the bare engine's renders/s (the
 * library used as its docs show) for the same realistic template: ten substitutions and a loop of
 * ten items. Both warm up, then each runs ~1 s (interleaved with the other in 100 ms slices), three
 * times; the median counts.
 *
 *   bun bench/render.ts
 *
 * Prints `name: value` lines, `ratio_<engine>` per engine and the headline `ratio` (the lowest of
 * eta and velocity).
 */
import { Eta } from "eta/core";
import Mustache from "mustache";
import velocityjs from "velocityjs";
import type { Renderer, TemplateContext } from "../core/contracts/renderer.ts";
import { jsonLiteral, xmlEscape } from "../core/escape.ts";
import { etaRenderer } from "../plugins/eta/index.ts";
import { FILTERS, TESTS } from "../plugins/jinja/filters.ts";
import { jinjaRenderer } from "../plugins/jinja/index.ts";
import { parseTemplate } from "../plugins/jinja/parser.ts";
import { Interpreter } from "../plugins/jinja/runtime.ts";
import { mustacheRenderer } from "../plugins/mustache/index.ts";
import { velocityRenderer } from "../plugins/velocity/index.ts";

const CONTEXT: TemplateContext = {
  event: {
    id: "evt-1",
    type: "order.placed",
    timestamp: "2024-05-01T10:00:00Z",
    data: {
      orderId: "o-1001",
      total: 259.9,
      items: Array.from({ length: 10 }, (_, i) => ({ sku: `SKU-${i}`, name: `Item "${i}"`, qty: i + 1 })),
    },
  },
  customer: {
    id: "c-1",
    email: "ada@example.com",
    first_name: "Ada",
    last_name: "Lovelace",
    city: "London",
    country: "GB",
  },
  params: { campaign: "spring", source: "web" },
  webhook: { name: "order-sync" },
};

const FIELDS = ["email", "first_name", "last_name", "city", "country"];

const TEMPLATES = {
  eta: `{${FIELDS.map((f) => `"${f}": <%= json(it.customer.${f}) %>`).join(", ")}, "campaign": <%= json(it.params.campaign) %>, "source": <%= json(it.params.source) %>, "event": <%= json(it.event.type) %>, "order": <%= json(it.event.data.orderId) %>, "total": <%= it.event.data.total %>, "items": [<% it.event.data.items.forEach(function (i, n) { %><%= n ? "," : "" %>{"sku": <%= json(i.sku) %>, "name": <%= json(i.name) %>, "qty": <%= i.qty %>}<% }) %>]}`,
  velocity: `{${FIELDS.map((f) => `"${f}": $esc.json($customer.${f})`).join(", ")}, "campaign": $esc.json($params.campaign), "source": $esc.json($params.source), "event": $esc.json($event.type), "order": $esc.json($event.data.orderId), "total": $event.data.total, "items": [#foreach($i in $event.data.items)#if($foreach.index > 0),#end{"sku": $esc.json($i.sku), "name": $esc.json($i.name), "qty": $i.qty}#end]}`,
  jinja: `{${FIELDS.map((f) => `"${f}": {{ customer.${f} | tojson }}`).join(", ")}, "campaign": {{ params.campaign | tojson }}, "source": {{ params.source | tojson }}, "event": {{ event.type | tojson }}, "order": {{ event.data.orderId | tojson }}, "total": {{ event.data.total }}, "items": [{% for i in event.data.items %}{% if not loop.first %},{% endif %}{"sku": {{ i.sku | tojson }}, "name": {{ i.name | tojson }}, "qty": {{ i.qty }}}{% endfor %}]}`,
  mustache: `{${FIELDS.map((f) => `"${f}": {{#json}}{{customer.${f}}}{{/json}}`).join(", ")}, "campaign": {{#json}}{{params.campaign}}{{/json}}, "source": {{#json}}{{params.source}}{{/json}}, "event": {{#json}}{{event.type}}{{/json}}, "order": {{#json}}{{event.data.orderId}}{{/json}}, "total": {{event.data.total}}, "items": [{{#event.data.items}}{"sku": {{#json}}{{sku}}{{/json}}, "name": {{#json}}{{name}}{{/json}}, "qty": {{qty}}},{{/event.data.items}}null]}`,
};

/** The framework path: the Renderer contract, as the engine calls it. */
function framework(renderer: Renderer, source: string): () => string {
  const compiled = renderer.compile(source, { name: "bench" });
  return () => compiled.render(CONTEXT);
}

/** The bare engines, used directly as their docs show, with the same helpers in scope. */
const bare = {
  eta(): () => string {
    const eta = new Eta({
      autoEscape: false,
      functionHeader: "const json = options.json, xml = options.xml;",
    });
    const fn = eta.compile(TEMPLATES.eta);
    const options = { json: jsonLiteral, xml: xmlEscape } as unknown as { filepath: string };
    return () => eta.render(fn, CONTEXT, options);
  },
  velocity(): () => string {
    const ast = velocityjs.parse(TEMPLATES.velocity);
    // Plain tool objects, as a velocityjs user passes them (velocityjs hangs `eval` on them).
    const context = { ...CONTEXT, data: {}, esc: { json: jsonLiteral, xml: xmlEscape } };
    return () => new velocityjs.Compile(ast).render(context);
  },
  jinja(): () => string {
    // The interpreter is ours: "bare" is it without the Renderer's per-render scope and error mapping.
    const nodes = parseTemplate(TEMPLATES.jinja, {
      filters: new Set(Object.keys(FILTERS)),
      tests: new Set(Object.keys(TESTS)),
    });
    const scope = Object.assign(Object.create(null), CONTEXT);
    return () => new Interpreter().render(nodes, scope);
  },
  mustache(): () => string {
    const lambda = (escapeFn: (s: string) => string) => () => (text: string, render: (t: string) => string) =>
      escapeFn(render(text));
    const view = { ...CONTEXT, json: lambda(jsonLiteral), xml: lambda(xmlEscape) };
    const options = { escape: (v: unknown) => String(v) };
    return () => Mustache.render(TEMPLATES.mustache, view, {}, options);
  },
};

let sink = 0;

/** Runs `render` for about `ms` milliseconds; returns [renders, elapsed ms]. */
function slice(render: () => string, ms: number): [number, number] {
  const start = performance.now();
  let n = 0;
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 32; i++) sink += render().length;
    n += 32;
    now = performance.now();
  }
  return [n, now - start];
}

/**
 * One run: each side renders for ~`ms` in total, in alternating 100 ms slices, so that the load of
 * a shared machine (other processes, GC, frequency changes) falls on both sides alike.
 * Returns renders/s for [framework, bare].
 */
function run(fw: () => string, raw: () => string, ms: number): [number, number] {
  const totals = [0, 0, 0, 0];
  for (let t = 0; t < ms; t += 100) {
    const [a, ta] = slice(fw, 100);
    const [b, tb] = slice(raw, 100);
    totals[0]! += a;
    totals[1]! += ta;
    totals[2]! += b;
    totals[3]! += tb;
  }
  return [(totals[0]! * 1000) / totals[1]!, (totals[2]! * 1000) / totals[3]!];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const engines = [
  ["eta", framework(etaRenderer(), TEMPLATES.eta), bare.eta()],
  ["velocity", framework(velocityRenderer(), TEMPLATES.velocity), bare.velocity()],
  ["jinja", framework(jinjaRenderer(), TEMPLATES.jinja), bare.jinja()],
  ["mustache", framework(mustacheRenderer(), TEMPLATES.mustache), bare.mustache()],
] as const;

const ratios: Record<string, number> = {};
for (const [name, fw, raw] of engines) {
  const a = fw();
  const b = raw();
  if (a !== b) throw new Error(`${name}: the framework and the bare engine render differently:\n${a}\n${b}`);
  JSON.parse(a);
  run(fw, raw, 500);
  const fws: number[] = [];
  const raws: number[] = [];
  for (let r = 0; r < 3; r++) {
    const [f1, b1] = run(fw, raw, 1000);
    fws.push(f1);
    raws.push(b1);
  }
  const f = median(fws);
  const b2 = median(raws);
  ratios[name] = f / b2;
  console.log(`${name}_framework_renders_per_s: ${Math.round(f)}`);
  console.log(`${name}_bare_renders_per_s: ${Math.round(b2)}`);
}
for (const [name, r] of Object.entries(ratios)) console.log(`ratio_${name}: ${r.toFixed(2)}`);
console.log(`ratio: ${Math.min(ratios.eta!, ratios.velocity!).toFixed(2)}`);
if (sink < 0) console.log(sink);
