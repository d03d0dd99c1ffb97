import type { PluginMigrations } from "../../core/plugin/index.ts";

/** The activity-callbacks plugin's tables. Append only: a released migration is never edited. */
export const callbackMigrations: PluginMigrations = {
  plugin: "activity-callbacks",
  migrations: [
    {
      version: 1,
      name: "subscribers, queue, batches, attempts",
      sql: `
CREATE TABLE hookline_subscribers (
  name text PRIMARY KEY,
  url text NOT NULL,
  integration text,
  statuses jsonb,
  batch_size integer NOT NULL,
  timeout_ms integer NOT NULL,
  retry_base_ms bigint NOT NULL,
  retry_cap_ms bigint NOT NULL,
  source text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE hookline_callback_queue (
  seq bigserial PRIMARY KEY,
  subscriber text NOT NULL REFERENCES hookline_subscribers (name) ON DELETE CASCADE,
  dedupe_key text NOT NULL,
  activity jsonb NOT NULL,
  batch_id uuid,
  queued_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (subscriber, dedupe_key)
);
CREATE INDEX hookline_callback_queue_open ON hookline_callback_queue (subscriber, seq) WHERE batch_id IS NULL;
CREATE INDEX hookline_callback_queue_batch ON hookline_callback_queue (batch_id, seq);
CREATE TABLE hookline_callback_batches (
  id uuid PRIMARY KEY,
  seq bigserial NOT NULL,
  subscriber text NOT NULL REFERENCES hookline_subscribers (name) ON DELETE CASCADE,
  size integer NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  next_at timestamptz NOT NULL DEFAULT now(),
  lease_owner text,
  lease_until timestamptz,
  last_status integer,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz
);
CREATE INDEX hookline_callback_batches_head ON hookline_callback_batches (subscriber, seq) WHERE status = 'pending';
CREATE TABLE hookline_callback_attempts (
  batch_id uuid NOT NULL REFERENCES hookline_callback_batches (id) ON DELETE CASCADE,
  number integer NOT NULL,
  started_at timestamptz NOT NULL,
  duration_ms integer NOT NULL,
  status integer,
  error text,
  PRIMARY KEY (batch_id, number)
)
`,
    },
    {
      version: 2,
      name: "subscribers' webhooks (delivery outcomes as activities); delivered batches by age",
      sql: `
ALTER TABLE hookline_subscribers ADD COLUMN webhooks jsonb;
-- The retention sweep finds old delivered batches without reading the whole table.
CREATE INDEX hookline_callback_batches_delivered ON hookline_callback_batches (delivered_at) WHERE status = 'delivered'
`,
    },
    {
      version: 3,
      name: "subscribers are webhooks: queued activities move to the deliveries; the old queue goes",
      // What was queued (unbatched, or in a batch not yet delivered) becomes a pending delivery of the
      // subscriber's webhook, in the order it was queued, exactly as POST /v1/activities now writes it
      // (event id "activity:<key>", ordering key the subscriber's name, retried until delivered); its
      // retry schedule starts afresh. Delivered batches were history only: they go with the tables.
      sql: `
INSERT INTO hookline_deliveries (id, webhook, idempotency_key, run_id, event_id, event_type, context, max_attempts, ordering_key)
SELECT gen_random_uuid(), 'subscriber.' || q.subscriber, 'activity:' || q.dedupe_key || ':subscriber.' || q.subscriber,
       'run_activity_callbacks_migrated', 'activity:' || q.dedupe_key, 'hookline.activity',
       jsonb_build_object(
         'event', jsonb_build_object('id', 'activity:' || q.dedupe_key, 'type', 'hookline.activity', 'data', q.activity,
                                     'timestamp', to_char(q.queued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
         'customer', '{}'::jsonb, 'params', '{}'::jsonb),
       2147483647, q.subscriber
  FROM hookline_callback_queue q
 WHERE q.batch_id IS NULL
    OR EXISTS (SELECT 1 FROM hookline_callback_batches b WHERE b.id = q.batch_id AND b.status = 'pending')
 ORDER BY q.seq
ON CONFLICT (idempotency_key) DO NOTHING;
DROP TABLE hookline_callback_attempts;
DROP TABLE hookline_callback_queue;
DROP TABLE hookline_callback_batches
`,
    },
  ],
};
