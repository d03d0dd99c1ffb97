import type { PluginMigrations } from "../../core/plugin/index.ts";

/** The inbound plugin's tables. Append only: a released migration is never edited. */
export const inboundMigrations: PluginMigrations = {
  plugin: "inbound",
  migrations: [
    {
      version: 1,
      name: "receipts, activities, profiles, endpoints",
      sql: `
CREATE TABLE hookline_inbound_receipts (
  endpoint text NOT NULL,
  request_key text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  response jsonb,
  events jsonb,
  PRIMARY KEY (endpoint, request_key)
);

CREATE TABLE hookline_activities (
  endpoint text NOT NULL,
  dedupe_key text NOT NULL,
  status text NOT NULL,
  activity jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  seq bigserial NOT NULL,
  PRIMARY KEY (endpoint, dedupe_key)
);
-- A BRIN index costs next to nothing per insert; listings read recent blocks by time.
CREATE INDEX hookline_activities_recent ON hookline_activities USING brin (received_at);

CREATE TABLE hookline_profiles (
  id text PRIMARY KEY,
  properties jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE hookline_profile_identifiers (
  property text NOT NULL,
  value text NOT NULL,
  profile_id text NOT NULL REFERENCES hookline_profiles (id) ON DELETE CASCADE,
  PRIMARY KEY (property, value)
);
CREATE INDEX hookline_profile_identifiers_profile ON hookline_profile_identifiers (profile_id);
CREATE TABLE hookline_timeline_events (
  id bigserial PRIMARY KEY,
  profile_id text NOT NULL REFERENCES hookline_profiles (id) ON DELETE CASCADE,
  type text NOT NULL,
  at timestamptz NOT NULL,
  data jsonb NOT NULL,
  endpoint text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hookline_timeline_events_profile ON hookline_timeline_events (profile_id, at DESC);

CREATE TABLE hookline_inbound_endpoints (
  name text PRIMARY KEY,
  config jsonb NOT NULL,
  sealed text,
  updated_at timestamptz NOT NULL DEFAULT now()
)
`,
    },
    {
      version: 2,
      name: "refusal counts; receipts by time",
      sql: `
-- Refusals by endpoint, reason (error code and status) and minute, for the console.
CREATE TABLE hookline_inbound_refusals (
  endpoint text,
  code text,
  status integer,
  minute timestamptz,
  count bigint NOT NULL,
  PRIMARY KEY (endpoint, code, status, minute)
);
-- The console lists a profile-update endpoint's latest receipts.
CREATE INDEX hookline_inbound_receipts_recent ON hookline_inbound_receipts USING brin (received_at)
`,
    },
    {
      version: 3,
      name: "consents per objective",
      // One row per profile and objective: its current state, when it was given and through what. The
      // segment filter's consent condition reads it (segments/compile.ts), as sends will (issue 16).
      sql: `
CREATE TABLE hookline_profile_consents (
  profile_id text NOT NULL REFERENCES hookline_profiles (id) ON DELETE CASCADE,
  objective text NOT NULL,
  granted boolean NOT NULL,
  at timestamptz NOT NULL,
  source text NOT NULL,
  PRIMARY KEY (profile_id, objective)
);
-- A segment of everyone who granted an objective reads this index alone.
CREATE INDEX hookline_profile_consents_granted ON hookline_profile_consents (objective, profile_id) WHERE granted
`,
    },
    {
      version: 4,
      name: "segments of the admin API",
      // Segments defined through PUT /v1/segments/:name (the config file's are not stored): the filter
      // as it was checked (segments/definitions.ts reads it).
      sql: `
CREATE TABLE hookline_segments (
  name text PRIMARY KEY,
  filter jsonb NOT NULL,
  description text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
)
`,
    },
    {
      version: 5,
      name: "activities by email and phone",
      // GET /v1/inbound/:name/activities?email= / ?phone= (activity-query.ts) reads a contact's
      // activities in time order here, not the whole window. Partial: an activity carries one or the other.
      sql: `
CREATE INDEX hookline_activities_email ON hookline_activities (endpoint, (activity->>'email'), received_at, seq)
  WHERE activity->>'email' IS NOT NULL;
CREATE INDEX hookline_activities_phone ON hookline_activities (endpoint, (activity->>'sms'), received_at, seq)
  WHERE activity->>'sms' IS NOT NULL
`,
    },
  ],
};
