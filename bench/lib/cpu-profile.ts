// Reading a V8 CPU profile (node:inspector's Profiler) as CPU per unit of work: by area (hookline,
// each package, node, native, GC), by function (self), and hookline's functions (total).

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** `function file:line`, the file shortened to its path in the repository or its package. */
export function frameName(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  if (!url) return functionName || "(anonymous)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
  const file = pkg ? `${pkg[1]}/${pkg[2]}` : url.replace(/^.*\/work\/main\//, "").replace(/^file:\/\//, "");
  return `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}`;
}

/** Where a frame's code lives: a package, node itself, or hookline (the bundle). */
export function area(n: ProfileNode): string {
  const { url, functionName } = n.callFrame;
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith("node:")) return "node";
  return "hookline";
}

/**
 * Prints the profile's busy time per unit (`units` of `unit`, e.g. 10,000 deliveries): by area, the
 * `top` functions by self time, and hookline's functions by total time (a recursive one counted once
 * per sample). Idle samples are left out.
 *
 * @example printProfile(profile, 10_000, "delivery", 30);
 */
export function printProfile(p: CpuProfile, units: number, unit: string, top: number): void {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const areas = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    const leaf = byId.get(p.samples[i]!)!;
    if (leaf.callFrame.functionName === "(idle)") continue;
    busy += dt;
    const name = frameName(leaf);
    self.set(name, (self.get(name) ?? 0) + dt);
    areas.set(area(leaf), (areas.get(area(leaf)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const node = byId.get(id)!;
      const key = frameName(node);
      if (seen.has(key) || area(node) !== "hookline") continue;
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + dt);
    }
  }
  const us = (t: number) => (t / units).toFixed(2).padStart(8);
  const list = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, t]) => `${us(t)}  ${k}`)
      .join("\n");
  console.log(`${unit}s: ${units}`);
  console.log(`profiled_cpu_us_per_${unit}: ${(busy / units).toFixed(1)}`);
  console.log(`\n-- by area (self, µs per ${unit})\n${list(areas, 15)}`);
  console.log(`\n-- self (µs per ${unit})\n${list(self, top)}`);
  console.log(`\n-- total, hookline functions (µs per ${unit})\n${list(total, top)}`);
}

export interface HeapNode {
  callFrame: ProfileNode["callFrame"];
  selfSize: number;
  children: HeapNode[];
}

/**
 * Prints a sampling heap profile (HeapProfiler.startSampling with the objects collected by GC kept)
 * as bytes allocated per unit, by area and by the function that allocated them: what the garbage
 * collector then spends its time on.
 *
 * @example printHeap(profile.head, 10_000, "delivery", 30);
 */
export function printHeap(head: HeapNode, units: number, unit: string, top: number): void {
  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  let all = 0;
  for (const stack = [head]; stack.length > 0; ) {
    const n = stack.pop()!;
    stack.push(...n.children);
    if (n.selfSize === 0) continue;
    const node = { id: 0, callFrame: n.callFrame };
    self.set(frameName(node), (self.get(frameName(node)) ?? 0) + n.selfSize);
    areas.set(area(node), (areas.get(area(node)) ?? 0) + n.selfSize);
    all += n.selfSize;
  }
  const bytes = (t: number) => (t / units).toFixed(0).padStart(8);
  const list = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, t]) => `${bytes(t)}  ${k}`)
      .join("\n");
  console.log(`${unit}s: ${units}`);
  console.log(`allocated_bytes_per_${unit}: ${(all / units).toFixed(0)}`);
  console.log(`\n-- by area (bytes per ${unit})\n${list(areas, 15)}`);
  console.log(`\n-- by function (bytes per ${unit})\n${list(self, top)}`);
}
