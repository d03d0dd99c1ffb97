/** @jsxImportSource hono/jsx */
import type { ConsoleSection, PluginHost } from "../../core/plugin/index.ts";
import { ScheduleRepository, type ScheduleRow } from "./repository.ts";
import { ScheduleOptions, scheduleKey } from "./trigger.ts";

/** A schedule trigger of the config file as the page lists it. */
interface Listed {
  key: string;
  options: ScheduleOptions;
  webhooks: readonly string[];
  row?: ScheduleRow;
}

/** The config file's schedule triggers with their rows in `hookline_schedules`. */
async function schedules(host: PluginHost): Promise<Listed[]> {
  const found: Array<Omit<Listed, "row">> = [];
  for (const t of host.config.triggers) {
    if (t.kind !== "schedule") continue;
    const { kind: _k, webhooks, params: _p, segments: _s, consent: _c, ...rest } = t;
    // Checked when the config was loaded; a trigger that does not parse is not a schedule that runs.
    const options = ScheduleOptions.safeParse(rest);
    if (options.success)
      found.push({ key: scheduleKey(options.data, webhooks), options: options.data, webhooks });
  }
  const rows = await new ScheduleRepository(host.sql).rows(found.map((f) => f.key));
  return found.map((f) => ({ ...f, ...(rows.has(f.key) ? { row: rows.get(f.key)! } : {}) }));
}

const When = (props: { at: Date | null | undefined; none: string }) =>
  props.at ? (
    <time datetime={props.at.toISOString()}>{props.at.toISOString().replace(".000Z", "Z")}</time>
  ) : (
    props.none
  );

function ScheduleCard(props: { base: string; s: Listed }) {
  const { s, base } = props;
  const { options, row } = s;
  const outcome = row?.lastOutcome;
  return (
    <section class="card" data-schedule={s.key} aria-label={`schedule ${s.key}`}>
      <h2>
        <code>{s.key}</code> <span class="tag">config</span>
      </h2>
      <dl class="counts">
        <dt>When</dt>
        <dd data-part="when">
          {options.cron !== undefined ? <code>{options.cron}</code> : <>once at {options.at}</>}
        </dd>
        <dt>Time zone</dt>
        <dd>{options.timezone}</dd>
        <dt>{options.segment !== undefined ? "Segment" : "Webhooks"}</dt>
        <dd data-part="target">
          {options.segment !== undefined ? (
            <>
              <a href={`${base}/segments/${encodeURIComponent(options.segment)}`}>{options.segment}</a>
              {` → ${s.webhooks.join(", ")}`}
            </>
          ) : (
            s.webhooks.join(", ")
          )}
        </dd>
        <dt>Missed tick</dt>
        <dd>{options.catchUp === "once" ? "fired once on start" : "skipped"}</dd>
        <dt>Next tick</dt>
        <dd data-part="next">
          <When at={row?.nextAt} none={row ? "none (a one-off that has fired)" : "not yet scheduled"} />
        </dd>
        <dt>Last tick</dt>
        <dd data-part="last">
          <When at={row?.lastTick} none="none yet" />
          {outcome ? (
            <>
              {" · "}
              <span data-part="outcome" class={outcome === "fired" ? "ok" : "warn"}>
                {outcome}
              </span>
            </>
          ) : null}
        </dd>
        <dt>Last run</dt>
        <dd data-part="run">
          {row?.lastRun ? (
            <a href={`${base}/deliveries/runs/${encodeURIComponent(row.lastRun)}`}>{row.lastRun}</a>
          ) : (
            "none yet"
          )}
        </dd>
      </dl>
    </section>
  );
}

/**
 * The schedule plugin's console section, "Schedules" (`/console/schedules`): each schedule trigger
 * of the config file with its cron or time, time zone, webhooks or segment and catch-up rule, and
 * from its row its next tick, last tick and outcome, and its last run's progress. Read-only:
 * schedules are triggers of the config file.
 *
 * @example routes.console = () => schedulesConsole()
 */
export function schedulesConsole(): ConsoleSection[] {
  return [
    {
      path: "schedules",
      label: "Schedules",
      order: 75,
      mount(pages, kit) {
        pages.get("/", kit.page("The console's schedule triggers, with their ticks"), async (c) => {
          // What a schedule shows is the config's triggers and their runs: as GET /v1/runs allows.
          kit.allow(c, "GET", "/v1/runs");
          const list = await schedules(kit.host);
          return c.html(
            <kit.Layout c={c} title="Schedules" active="schedules">
              <h1>Schedules</h1>
              <p class="muted">
                Schedule triggers of the config file: each tick fires once across every process; a tick is a
                run.
              </p>
              {list.length === 0 ? (
                <p class="muted">
                  No schedule: add a trigger <code>{"{ kind: schedule, cron: …, webhooks: […] }"}</code> to
                  the config file.
                </p>
              ) : (
                <div class="grid">
                  {list.map((s) => (
                    <ScheduleCard base={kit.base} s={s} />
                  ))}
                </div>
              )}
            </kit.Layout>,
          );
        });
      },
    },
  ];
}
