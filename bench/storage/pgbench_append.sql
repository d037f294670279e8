-- What PostgresStorage::append does for one command of one event, as one pgbench transaction: read
-- the instance's version and insert the next event (the same table, index and columns), one
-- transaction per command; each client on its own 1,000 deals.
\set d random(1, 1000)
BEGIN;
INSERT INTO salesflow_events (instance, version, type, at, actor, definition_id,
  definition_version, stage, from_stage, target, value_type, value, text)
  SELECT 'pgb-' || :client_id || '-deal-' || :d, coalesce(max(version), 0) + 1, 1,
    1764000000000, 'maria', 'b2b_pipeline', 1, 0, 0, 3, 3, '72', ''
  FROM salesflow_events WHERE instance = 'pgb-' || :client_id || '-deal-' || :d;
END;
