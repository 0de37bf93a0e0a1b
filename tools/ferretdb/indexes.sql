-- Index the way FerretDB 1.24 actually queries (applied to its `ferretdb` database by
-- scripts/stack.sh on every start; idempotent).
--
-- FerretDB's PostgreSQL backend pushes an equality filter down as JSONB containment,
-- `_jsonb->'idDevice' @> '1003'`, but builds every MongoDB index as a B-tree on the same
-- expressions, which `@>` cannot use. So each worker query (`{idDevice, ts: {...}}`) read the
-- whole collection's table and the local pipeline grew quadratically with the snapshot: 54 ms a
-- query on 4,393 variable_logs documents, growing with the table. A GIN index on the leading
-- key of each such B-tree serves the containment: a bitmap scan of the device's documents
-- (2.5 ms on the same table). FerretDB still filters the time range itself, so a query costs
-- what the device's history costs, as on MongoDB it costs what the window holds.
--
-- Local stack only: production is MongoDB, whose B-tree index bounds the whole query.

SET client_min_messages = warning;

CREATE OR REPLACE FUNCTION lakehouse_gin_for(btree oid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  key_expr text;
  target regclass;
  method name;
BEGIN
  SELECT pg_get_indexdef(i.indexrelid, 1, false), i.indrelid::regclass, am.amname
    INTO key_expr, target, method
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_am am ON am.oid = c.relam
   WHERE i.indexrelid = btree;
  -- Only FerretDB's own B-trees on a document field; `_id` lookups are not the workers'.
  IF method IS DISTINCT FROM 'btree' OR key_expr NOT LIKE '((_jsonb -> %'
     OR key_expr = '((_jsonb -> ''_id''::text))' THEN
    RETURN;
  END IF;
  EXECUTE format(
    'CREATE INDEX IF NOT EXISTS %I ON %s USING gin (%s jsonb_path_ops)',
    left(split_part(target::text, '.', 2), 40) || '_gin_' || left(md5(key_expr), 8),
    target,
    key_expr);
END $$;

CREATE OR REPLACE FUNCTION lakehouse_gin_on_create_index() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
  created record;
BEGIN
  FOR created IN
    SELECT objid FROM pg_event_trigger_ddl_commands()
     WHERE command_tag = 'CREATE INDEX' AND object_type = 'index'
  LOOP
    PERFORM lakehouse_gin_for(created.objid);
  END LOOP;
END $$;

DROP EVENT TRIGGER IF EXISTS lakehouse_gin_on_create_index;
CREATE EVENT TRIGGER lakehouse_gin_on_create_index ON ddl_command_end
  WHEN TAG IN ('CREATE INDEX')
  EXECUTE FUNCTION lakehouse_gin_on_create_index();

-- Collections indexed before this file existed (or before the trigger was installed).
SELECT lakehouse_gin_for(i.indexrelid)
  FROM pg_index i
  JOIN pg_class t ON t.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast');
