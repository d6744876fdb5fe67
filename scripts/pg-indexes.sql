-- Local set-up only (scripts/db.sh indexes; never on MongoDB Atlas): PostgreSQL indexes that
-- serve the filters FerretDB 1.24 pushes down to PostgreSQL.
--
-- FerretDB stores a collection as a table with one jsonb column, `_jsonb`, in a schema named
-- after the MongoDB database; `_ferretdb_database_metadata` maps collection names to tables.
-- It pushes each top-level equality of a filter down as `_jsonb->'field' @> '<value>'`
-- (internal/backends/postgresql/query.go). The indexes that createIndexes builds are btree on
-- `((_jsonb->'field'))`: a btree cannot serve `@>`, so every query was a sequential scan.
-- A GIN index with jsonb_path_ops on the same expression does serve it. (A GIN on the whole
-- `_jsonb` would not: the planner matches the indexed expression, `_jsonb->'field'`.)
--
-- Which fields: `_id` of every collection, and the equality fields the app's queries start
-- from (chalicelib/**/*.py). Low-cardinality fields (statuses, batch, month) are left out: the
-- seller_id index already narrows those queries to one seller. Safe to run again (IF NOT
-- EXISTS); run it after `python -m chalicelib.manage init-db`, which creates the tables.
-- FerretDB does not list these indexes (they are not in its metadata) and drops them with
-- their table.
SET client_min_messages = warning;  -- no 'already exists, skipping' notices

DO $$
DECLARE
  s text;
  coll text;
  tbl text;
  field text;
  wanted text[][] := ARRAY[
    ['orders', 'seller_id'], ['orders', 'customer_id'], ['orders', 'item_id'], ['orders', 'import_id'],
    ['order_keys', 'seller_id'],  -- the orders' slim key index (chalicelib/platform/key_index.py)
    ['customers', 'seller_id'], ['customers', 'email_lower'],
    ['items', 'seller_id'],
    ['sellers', 'email_lower'], ['sellers', 'shop_slug'],
    ['tracking_links', 'token_hash'], ['tracking_links', 'seller_id'], ['tracking_links', 'customer_id'],
    ['sessions', 'seller_id'], ['password_resets', 'seller_id'], ['refresh_tokens', 'session_id'],
    ['members', 'email_lower'], ['members', 'token_hash'], ['members', 'seller_id'],
    ['login_attempts', 'email_lower'], ['login_attempts', 'client'],
    ['rate_limits', 'key'],
    ['payments', 'seller_id'], ['payments', 'customer_id'],
    ['parcels', 'seller_id'], ['orders', 'parcel_id'],
    ['charges', 'seller_id'], ['charges', 'customer_id'], ['charges', 'live_key']
  ];
  i int;
BEGIN
  FOR s IN
    SELECT table_schema FROM information_schema.tables WHERE table_name = '_ferretdb_database_metadata'
  LOOP
    -- `_id` of every collection.
    FOR coll, tbl IN
      EXECUTE format('SELECT _jsonb->>''_id'', _jsonb->>''table'' FROM %I._ferretdb_database_metadata', s)
    LOOP
      EXECUTE format(
        'CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin ((_jsonb->''_id'') jsonb_path_ops)',
        left(tbl, 40) || '__id_gin', s, tbl);
    END LOOP;
    FOR i IN 1 .. array_length(wanted, 1) LOOP
      coll := wanted[i][1];
      field := wanted[i][2];
      EXECUTE format('SELECT _jsonb->>''table'' FROM %I._ferretdb_database_metadata WHERE _jsonb->''_id'' = to_jsonb(%L::text)', s, coll)
        INTO tbl;
      CONTINUE WHEN tbl IS NULL;
      EXECUTE format(
        'CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin ((_jsonb->%L) jsonb_path_ops)',
        left(tbl, 40) || '_' || left(field, 16) || '_gin', s, tbl, field);
    END LOOP;
  END LOOP;
END
$$;
