-- GIN expression indexes that PostgreSQL can use for FerretDB 1.24's pushed-down equality filters.
--
-- FerretDB turns `{field: value}` into `_jsonb->'field' @> $1`, while the indexes it creates itself are
-- B-trees on `(_jsonb->'field')`: a B-tree cannot answer `@>`, so every lookup would scan the table.
-- This event trigger gives every B-tree index FerretDB creates (the `_id_` index of each new collection
-- and every `createIndexes` of the application) a GIN twin on its leading field's expression.
-- The application therefore declares ordinary MongoDB indexes and stays portable; only this deploy step
-- knows about FerretDB's tables. The B-tree stays: it still enforces uniqueness.
-- Idempotent: the launcher applies it to the `ferretdb` database at every start.

CREATE OR REPLACE FUNCTION duban_gin_twins() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    command record;
    index_name text;
    table_oid regclass;
    method text;
    expression text;
BEGIN
    FOR command IN SELECT objid, schema_name FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE INDEX' LOOP
        SELECT c.relname, i.indrelid::regclass, a.amname
          INTO index_name, table_oid, method
          FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
         WHERE i.indexrelid = command.objid;
        -- our own GIN twins fire this trigger too; FerretDB's metadata tables are read from its cache
        CONTINUE WHEN method IS DISTINCT FROM 'btree' OR position('_ferretdb_' in table_oid::text) > 0;
        -- the leading field only, as MongoDB serves an index's prefix: the other fields stay B-tree only
        expression := pg_get_indexdef(command.objid, 1, true);
        -- top-level fields only: FerretDB 1.24 does not push down dotted paths
        CONTINUE WHEN expression !~ '^\(?_jsonb -> ''[^'']*''(::text)?\)?$';
        -- fastupdate off: no pending list of unsorted entries that every lookup would have to scan (p99 outliers)
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((%s)) WITH (fastupdate = off)',
                       left(index_name, 48) || '_' || substr(md5(index_name), 1, 8) || '_gin', table_oid, expression);
    END LOOP;
END
$$;

DROP EVENT TRIGGER IF EXISTS duban_gin_twins;
CREATE EVENT TRIGGER duban_gin_twins ON ddl_command_end WHEN TAG IN ('CREATE INDEX') EXECUTE FUNCTION duban_gin_twins();

-- Custom plans only. FerretDB sends each filter as a prepared statement whose field name is a parameter
-- (`WHERE _jsonb->$1 @> $2`). A generic plan cannot match an expression index on `(_jsonb->'field')`, so it is
-- a Seq Scan; PostgreSQL switches a statement to its generic plan whenever it estimates it no dearer than the
-- custom ones (a new or small table, stale statistics) and keeps it on that pooled connection while the table
-- grows: seen as the relay's update by `_id` taking 31 ms instead of 1 ms at 10k events, in one run of two. A custom
-- plan sees the field name and uses the GIN index; planning each statement costs ~0.1 ms. New sessions
-- (FerretDB's pool connects after this step) take the database's setting.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET plan_cache_mode = force_custom_plan', current_database());
END
$$;
