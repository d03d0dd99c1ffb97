/**
 * Versioned migrations, one list for PGlite and the Postgres server (same SQL). Append only: a
 * released migration is never edited.
 */
export const migrations: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: "outbox",
    sql: `
CREATE TABLE hookline_deliveries (
  id uuid PRIMARY KEY,
  webhook text NOT NULL,
  idempotency_key text NOT NULL UNIQUE,
  run_id text NOT NULL,
  event_id text NOT NULL,
  event_type text NOT NULL,
  customer_id text,
  context jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL,
  next_at timestamptz NOT NULL DEFAULT now(),
  lease_owner text,
  lease_until timestamptz,
  last_status integer,
  reason text,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  seq bigserial NOT NULL
);
CREATE INDEX hookline_deliveries_due ON hookline_deliveries (next_at, seq) WHERE status = 'pending';
CREATE INDEX hookline_deliveries_lease ON hookline_deliveries (lease_until) WHERE status = 'in_flight';
CREATE INDEX hookline_deliveries_run ON hookline_deliveries (webhook, run_id) WHERE status = 'pending';
CREATE INDEX hookline_deliveries_list ON hookline_deliveries (seq DESC);
CREATE INDEX hookline_deliveries_webhook ON hookline_deliveries (webhook, seq DESC);

CREATE TABLE hookline_attempts (
  delivery_id uuid NOT NULL REFERENCES hookline_deliveries (id) ON DELETE CASCADE,
  number integer NOT NULL,
  started_at timestamptz NOT NULL,
  duration_ms integer NOT NULL,
  request jsonb NOT NULL,
  status integer,
  response_headers jsonb,
  response_body text,
  response_truncated boolean NOT NULL DEFAULT false,
  error_class text,
  error text,
  outcome text NOT NULL,
  PRIMARY KEY (delivery_id, number)
);

CREATE TABLE hookline_halted_runs (
  webhook text NOT NULL,
  run_id text NOT NULL,
  reason text NOT NULL,
  halted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (webhook, run_id)
);
`,
  },
  {
    version: 2,
    name: "managed config and integration state",
    sql: `
CREATE TABLE hookline_managed (
  kind text NOT NULL,
  name text NOT NULL,
  spec jsonb NOT NULL,
  sealed text,
  missing_secrets jsonb NOT NULL DEFAULT '[]',
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (kind, name)
);
CREATE TABLE hookline_integration_state (
  integration text NOT NULL,
  key text NOT NULL,
  sealed text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (integration, key)
);
`,
  },
  {
    version: 3,
    name: "throughput policies and ordered streams",
    sql: `
ALTER TABLE hookline_deliveries ADD COLUMN policy text;
ALTER TABLE hookline_deliveries ADD COLUMN ordering_key text;
CREATE INDEX hookline_deliveries_stream ON hookline_deliveries (webhook, ordering_key, seq)
  WHERE ordering_key IS NOT NULL AND status IN ('pending', 'in_flight');
CREATE TABLE hookline_policies (
  name text PRIMARY KEY,
  concurrency integer NOT NULL,
  source text NOT NULL DEFAULT 'config',
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE hookline_policy_slots (
  policy text NOT NULL,
  holder uuid NOT NULL,
  owner text NOT NULL,
  lease_until timestamptz NOT NULL,
  PRIMARY KEY (policy, holder)
);
`,
  },
  {
    version: 4,
    name: "abort counts",
    sql: `
CREATE TABLE hookline_run_failures (
  webhook text NOT NULL,
  run_id text NOT NULL,
  failures integer NOT NULL DEFAULT 0,
  PRIMARY KEY (webhook, run_id)
);
`,
  },
  {
    version: 5,
    name: "webhook health (pause after continuous failure)",
    sql: `
CREATE TABLE hookline_webhook_health (
  webhook text PRIMARY KEY,
  failing_since timestamptz,
  paused_at timestamptz,
  reason text
);
`,
  },
  {
    version: 6,
    name: "throughput policies: an optional rate per second (a token bucket shared by every process)",
    sql: `
ALTER TABLE hookline_policies ADD COLUMN rate double precision;
ALTER TABLE hookline_policies ADD COLUMN tokens double precision NOT NULL DEFAULT 0;
ALTER TABLE hookline_policies ADD COLUMN refilled_at timestamptz NOT NULL DEFAULT clock_timestamp();
`,
  },
  {
    version: 7,
    name: "a claim that walks the due index: ordered streams' later deliveries wait, a paused webhook's are set aside",
    sql: `
-- Only an ordered stream's head is pending (or in flight, or paused); the deliveries behind it are
-- 'waiting' until it ends. A claimed delivery of a paused webhook is set 'paused' until it resumes.
-- (The migrator then sets 'waiting' every pending delivery behind its stream's head.)
DROP INDEX hookline_deliveries_stream;
CREATE INDEX hookline_deliveries_stream_head ON hookline_deliveries (webhook, ordering_key)
  WHERE ordering_key IS NOT NULL AND status IN ('pending', 'in_flight', 'paused');
CREATE INDEX hookline_deliveries_waiting ON hookline_deliveries (webhook, ordering_key, seq) WHERE status = 'waiting';
CREATE INDEX hookline_deliveries_paused ON hookline_deliveries (webhook) WHERE status = 'paused';
DROP INDEX hookline_deliveries_run;
CREATE INDEX hookline_deliveries_run ON hookline_deliveries (webhook, run_id) WHERE status IN ('pending', 'waiting', 'paused');
`,
  },
  {
    version: 8,
    name: "numbered throughput slots: a claim takes its slots in the same statement, the primary key holds the limit",
    sql: `
-- A policy's slots are numbered 1..concurrency and (policy, slot) is unique: two claims that race for
-- the same free slot cannot both get it, so no lock is needed around the count. A delivery may hold a
-- second row while its expired one waits to be taken over. "taken" is what a rated policy's last
-- claim took from its bucket (the claim reads it back in the same statement).
ALTER TABLE hookline_policies ADD COLUMN taken integer NOT NULL DEFAULT 0;
ALTER TABLE hookline_policy_slots ADD COLUMN slot integer;
UPDATE hookline_policy_slots s SET slot = n.k
  FROM (SELECT policy, holder, row_number() OVER (PARTITION BY policy ORDER BY lease_until DESC) AS k
          FROM hookline_policy_slots) n
 WHERE s.policy = n.policy AND s.holder = n.holder;
ALTER TABLE hookline_policy_slots ALTER COLUMN slot SET NOT NULL;
ALTER TABLE hookline_policy_slots DROP CONSTRAINT hookline_policy_slots_pkey;
ALTER TABLE hookline_policy_slots ADD PRIMARY KEY (policy, slot);
`,
  },
  {
    version: 9,
    name: "attempts keep no foreign key to their delivery",
    sql: `
-- An attempt is inserted only in the statement that updates its delivery under its lease (see
-- core/store/outcomes.ts), so the key cannot dangle; checking it cost a row lock on the delivery per
-- attempt (36 µs of the 73 µs Postgres spent recording a success, measured with EXPLAIN ANALYZE).
-- Whatever deletes deliveries deletes their attempts with them.
ALTER TABLE hookline_attempts DROP CONSTRAINT IF EXISTS hookline_attempts_delivery_id_fkey;
`,
  },
  {
    version: 10,
    name: "a delivery's content is written once; its state is a narrow row of its own",
    sql: `
-- hookline_deliveries keeps what a delivery is (its event, customer, context, idempotency key, the run
-- it was published in) and is never updated. What changes as it is sent (status, due time, lease,
-- attempts, the current run and attempt budget after a manual retry, the last status and reason) is
-- a narrow row in hookline_delivery_state, with the columns its indexes and the claim need (webhook,
-- policy, ordering key, seq) copied. A claim and an outcome rewrite ~150 bytes and the state's
-- primary key (plus the partial index the new status enters) instead of a ~1 KB row and all ten
-- indexes of the table. (The migrator gives a state row to any delivery a plugin's migration writes.)
CREATE TABLE hookline_delivery_state (
  id uuid PRIMARY KEY,
  seq bigint NOT NULL,
  webhook text NOT NULL,
  run_id text NOT NULL,
  policy text,
  ordering_key text,
  status text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL,
  next_at timestamptz NOT NULL DEFAULT now(),
  lease_owner text,
  lease_until timestamptz,
  last_status integer,
  reason text,
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
INSERT INTO hookline_delivery_state (id, seq, webhook, run_id, policy, ordering_key, status, attempts, max_attempts,
                                     next_at, lease_owner, lease_until, last_status, reason, updated_at)
SELECT id, seq, webhook, run_id, policy, ordering_key, status, attempts, max_attempts,
       next_at, lease_owner, lease_until, last_status, reason, updated_at
  FROM hookline_deliveries;
DROP INDEX hookline_deliveries_due;
DROP INDEX hookline_deliveries_lease;
DROP INDEX hookline_deliveries_run;
DROP INDEX hookline_deliveries_stream_head;
DROP INDEX hookline_deliveries_waiting;
DROP INDEX hookline_deliveries_paused;
ALTER TABLE hookline_deliveries DROP COLUMN status, DROP COLUMN attempts, DROP COLUMN next_at, DROP COLUMN lease_owner,
  DROP COLUMN lease_until, DROP COLUMN last_status, DROP COLUMN reason, DROP COLUMN updated_at;
-- The W3C traceparent of the span that published the delivery (its attempts are traced as children).
ALTER TABLE hookline_deliveries ADD COLUMN traceparent text;
-- Due deliveries without a policy in due order; those of each policy in its own range: a claim walks
-- each policy with a slot free apart, and never reads a full policy's backlog.
CREATE INDEX hookline_delivery_state_due ON hookline_delivery_state (next_at, seq) WHERE status = 'pending' AND policy IS NULL;
CREATE INDEX hookline_delivery_state_due_policy ON hookline_delivery_state (policy, next_at, seq)
  WHERE status = 'pending' AND policy IS NOT NULL;
CREATE INDEX hookline_delivery_state_lease ON hookline_delivery_state (lease_until) WHERE status = 'in_flight';
CREATE INDEX hookline_delivery_state_run ON hookline_delivery_state (webhook, run_id) WHERE status IN ('pending', 'waiting', 'paused');
CREATE INDEX hookline_delivery_state_stream_head ON hookline_delivery_state (webhook, ordering_key)
  WHERE ordering_key IS NOT NULL AND status IN ('pending', 'in_flight', 'paused');
CREATE INDEX hookline_delivery_state_waiting ON hookline_delivery_state (webhook, ordering_key, seq) WHERE status = 'waiting';
CREATE INDEX hookline_delivery_state_paused ON hookline_delivery_state (webhook) WHERE status = 'paused'
`,
  },
  {
    version: 11,
    name: "runs: each publish call, retry or replay is a run, with its progress tallied as it goes",
    sql: `
-- A run's progress is tallied, not counted: the statement that writes deliveries adds (run, webhook,
-- 'created', n), the one that records outcomes (run, webhook, status, n) for those it ended, each a
-- row of its own (no row is updated by two writers, so workers never wait on each other). A run's
-- counts are the sums of its rows; its rate, the sum of the last minute's.
CREATE TABLE hookline_runs (
  id text PRIMARY KEY,
  kind text NOT NULL DEFAULT 'publish',
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  -- A run that is a job (a bulk retry): what it selects and how far it has got.
  job jsonb,
  job_state text,
  job_owner text,
  job_lease_until timestamptz,
  cancelled_at timestamptz
);
CREATE INDEX hookline_runs_recent ON hookline_runs (created_at DESC, id);
CREATE INDEX hookline_runs_jobs ON hookline_runs (job_lease_until) WHERE job_state = 'running';
CREATE TABLE hookline_run_tallies (
  run_id text NOT NULL,
  webhook text NOT NULL,
  status text NOT NULL,
  n bigint NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  -- Rows older than a few minutes are merged into one per run, webhook and status (compactTallies).
  merged boolean NOT NULL DEFAULT false
);
CREATE INDEX hookline_run_tallies_run ON hookline_run_tallies (run_id, at);
CREATE INDEX hookline_run_tallies_unmerged ON hookline_run_tallies (at) WHERE NOT merged;
CREATE UNIQUE INDEX hookline_run_tallies_merged ON hookline_run_tallies (run_id, webhook, status) WHERE merged;
-- The deliveries published in a run, in order; those a retry moved into one (their state's run_id).
CREATE INDEX hookline_deliveries_run ON hookline_deliveries (run_id, seq);
CREATE INDEX hookline_delivery_state_retried ON hookline_delivery_state (run_id, seq) WHERE run_id LIKE 'retry\\_%';
-- Deliveries that ended badly, in order: what a bulk retry walks.
CREATE INDEX hookline_delivery_state_ended_badly ON hookline_delivery_state (seq) WHERE status IN ('failed', 'halted', 'aborted');
-- The runs that were there before: their counts as they stand.
INSERT INTO hookline_runs (id, kind, created_at)
SELECT s.run_id, CASE WHEN s.run_id LIKE 'retry\\_%' THEN 'retry' ELSE 'publish' END, min(c.created_at)
  FROM hookline_delivery_state s JOIN hookline_deliveries c ON c.id = s.id GROUP BY s.run_id;
INSERT INTO hookline_run_tallies (run_id, webhook, status, n, merged)
SELECT run_id, webhook, 'created', count(*), true FROM hookline_delivery_state GROUP BY run_id, webhook
UNION ALL
SELECT run_id, webhook, status, count(*), true FROM hookline_delivery_state
 WHERE status IN ('succeeded', 'failed', 'halted', 'aborted') GROUP BY run_id, webhook, status
`,
  },
  {
    version: 12,
    name: "API tokens with roles, stored hashed",
    sql: `
-- A token is shown once when created; only its SHA-256 is kept. id is public (to list and revoke).
CREATE TABLE hookline_tokens (
  id text PRIMARY KEY,
  name text NOT NULL,
  role text NOT NULL,
  hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  revoked_at timestamptz
)
`,
  },
  {
    version: 13,
    name: "webhooks disabled by an operator (beside paused): triggers make no delivery, queued ones wait",
    sql: `
-- Kept beside the pause (paused_at) and read by the same claim: a delivery of a disabled or paused
-- webhook is set aside as 'paused' until neither holds. Triggers write no delivery for a disabled one.
ALTER TABLE hookline_webhook_health ADD COLUMN disabled_at timestamptz;
ALTER TABLE hookline_webhook_health ADD COLUMN disabled_reason text
`,
  },
  {
    version: 14,
    name: "deliveries by customer and by time; deliveries ended per minute by outcome",
    sql: `
-- The deliveries list's filters (console, GET /v1/deliveries): a customer's deliveries newest first,
-- and those created in a time range newest first, each walked through an index and stopped at the page.
-- A customer id may be longer than an index row may be (8 KB): the index holds its first 200
-- characters, and the filter compares those and then the whole id.
CREATE INDEX hookline_deliveries_customer ON hookline_deliveries (left(customer_id, 200), seq) WHERE customer_id IS NOT NULL;
CREATE INDEX hookline_deliveries_created ON hookline_deliveries (created_at, seq);
-- Outcomes per minute (the overview's last hour and last day): compactTallies moves the runs' ended
-- tallies it merges here, by the minute they were written in; the rows not merged yet are read from
-- hookline_run_tallies. No write on a delivery's path: the tallies are written already.
CREATE TABLE hookline_outcome_minutes (
  minute timestamptz NOT NULL,
  status text NOT NULL,
  n bigint NOT NULL,
  PRIMARY KEY (minute, status)
);
-- The last day's outcomes already merged before this migration, from the deliveries' state (a
-- delivery retried within the day counts once, as it ended last).
INSERT INTO hookline_outcome_minutes (minute, status, n)
SELECT date_trunc('minute', updated_at), status, count(*) FROM hookline_delivery_state
 WHERE status IN ('succeeded', 'failed', 'halted', 'aborted') AND updated_at > now() - interval '1 day'
   AND updated_at < coalesce((SELECT min(at) FROM hookline_run_tallies WHERE NOT merged), now())
 GROUP BY 1, 2
`,
  },
  {
    version: 16,
    name: "priority: deliveries of bulk runs are claimed after due deliveries of events",
    sql: `
-- Deliveries of bulk runs (schedules' ticks, segment sends, bulk retries and replays) are marked, and
-- the due indexes lead with the mark: a claim walks the events' due deliveries and the bulk ones
-- apart, each in due order, so a million-member send queued in front never stands before an event.
ALTER TABLE hookline_delivery_state ADD COLUMN bulk boolean NOT NULL DEFAULT false;
UPDATE hookline_delivery_state SET bulk = true
 WHERE status IN ('pending', 'waiting', 'paused') AND run_id LIKE 'retry\\_%';
DROP INDEX hookline_delivery_state_due;
DROP INDEX hookline_delivery_state_due_policy;
CREATE INDEX hookline_delivery_state_due ON hookline_delivery_state (bulk, next_at, seq) WHERE status = 'pending' AND policy IS NULL;
CREATE INDEX hookline_delivery_state_due_policy ON hookline_delivery_state (policy, bulk, next_at, seq)
  WHERE status = 'pending' AND policy IS NOT NULL
`,
  },
];
