-- Scale generator: fills a migrated twofold PostgreSQL database with generated users,
-- groups, memberships and live sessions, in SQL (generate_series, INSERT ... SELECT).
--
--   psql -X -v ON_ERROR_STOP=1 -d twofold_scale \
--        -v users=1000000 -v groups=10000 -v sessions=5000000 \
--        -v pwhash="$(psql -XAtc "SELECT password_hash FROM users WHERE uid='bench'")" \
--        [-v max_groups_per_user=5] [-v part=all|sessions] -f bench/scale/generate.sql
--
-- Expects a database migrated by `twofold migrate` (or `serve`) that holds only real
-- users made with the CLI (e.g. `bench`); it refuses to run twice. `part=sessions` drops
-- every session (real ones too) and generates the sessions again, for a cached database
-- whose generated sessions have expired.
--
-- What it makes:
--   users     user0000001 .. userN, all sharing :pwhash (one real Argon2 hash, copied
--             from a user made with `twofold user add`), enabled, no admins;
--   groups    group00001 .. groupG;
--   members   each generated user in 1 .. max_groups_per_user groups (consecutive group
--             numbers from a random start biased towards low numbers, so some groups are
--             big), every real user in the first 3 groups;
--   sessions  S authenticated sessions of random generated users: id a v4-looking UUID,
--             token_hash 64 hex characters (the shape of the HMAC-SHA256 hex that
--             src/sessions.rs stores; nobody holds the tokens), 80 % "remember me"
--             (created 0-10 days ago, expiring 30 days after that), 20 % ordinary
--             (created 0-6 hours ago, expiring 12 hours after that); 1/3 with two factors.
--             Every expiry is at least 6 hours in the future.
--
-- Speed without switching anything off: one transaction per part; the indexes and
-- constraints of group_members and sessions are read from the catalog, dropped, and
-- built again (every one of them, with its foreign keys validated) after the bulk load,
-- inside the same transaction, so a failure rolls back to the migrated schema. Users are
-- inserted in key order, so their primary key grows at the right edge.

\set ON_ERROR_STOP on
\if :{?users}
\else
  \echo 'generate.sql: set -v users=N -v groups=N -v sessions=N -v pwhash=...'
  \quit
\endif
\if :{?max_groups_per_user}
\else
  \set max_groups_per_user 5
\endif
\if :{?part}
\else
  \set part all
\endif

SET synchronous_commit = off;          -- this session only; a crash loses the run, not the database
SET maintenance_work_mem = '512MB';    -- index builds sort in memory
SET work_mem = '64MB';
\timing on

SELECT (:'part' = 'all') AS part_all \gset
SELECT (:'part' = 'sessions') AS part_sessions \gset
\if :part_all
\elif :part_sessions
\else
  \echo 'generate.sql: part must be all or sessions'
  \quit
\endif

BEGIN;

-- Indexes and constraints of the bulk-loaded tables, to build again after the load.
CREATE TEMP TABLE bench_ddl (ord serial, kind text, tbl regclass, name text, ddl text) ON COMMIT DROP;

\if :part_all
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM users WHERE uid LIKE 'user%') OR EXISTS (SELECT 1 FROM groups) THEN
    RAISE EXCEPTION 'this database already holds generated rows: drop it and migrate a new one';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM users) THEN
    RAISE EXCEPTION 'no real user: create one with `twofold user add` first (its hash is shared)';
  END IF;
END $$;
SELECT ARRAY['sessions', 'group_members']::text AS bulk_tables \gset
\else
SELECT ARRAY['sessions']::text AS bulk_tables \gset
\endif

-- From the catalog: primary keys and unique constraints, then foreign keys (the order
-- they are built again in), then plain indexes.
INSERT INTO bench_ddl (kind, tbl, name, ddl)
SELECT 'constraint', c.conrelid::regclass, c.conname,
       format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname,
              pg_get_constraintdef(c.oid))
FROM pg_constraint c
WHERE c.conrelid::regclass::text = ANY (:'bulk_tables'::text[])
  AND c.contype IN ('p', 'u', 'f')
ORDER BY c.contype = 'f', c.conname;
INSERT INTO bench_ddl (kind, tbl, name, ddl)
SELECT 'index', i.indrelid::regclass, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid::regclass::text = ANY (:'bulk_tables'::text[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                  WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
ORDER BY 3;
SELECT kind, tbl, name FROM bench_ddl ORDER BY ord;

DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM bench_ddl ORDER BY kind = 'constraint', ord DESC LOOP
    IF r.kind = 'index' THEN
      EXECUTE format('DROP INDEX %s', r.name);
    ELSE
      EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.name);
    END IF;
  END LOOP;
END $$;

-- Zero-padded names sort in insertion order; the width fits the count.
SELECT greatest(7, length(:'users')) AS uw, greatest(5, length(:'groups')) AS gw \gset

\if :part_all
\echo users
INSERT INTO users (uid, display_name, email, password_hash, enabled, is_admin, created_at)
SELECT 'user' || lpad(i::text, :uw, '0'),
       'Generated User ' || i,
       'user' || i || '@example.org',
       :'pwhash',
       1, 0,
       extract(epoch FROM now())::bigint - (random() * 3 * 365 * 86400)::bigint
FROM generate_series(1, :users) AS i
ORDER BY 1;

\echo groups
INSERT INTO groups (gid, created_at)
SELECT 'group' || lpad(g::text, :gw, '0'), extract(epoch FROM now())::bigint - g
FROM generate_series(1, :groups) AS g;

\echo group_members
-- k groups per user (1..max, at most :groups), consecutive from a start biased to low
-- numbers (random()^2): distinct by construction, no ON CONFLICT needed.
INSERT INTO group_members (gid, uid)
SELECT 'group' || lpad((1 + (u.start + j) % :groups)::text, :gw, '0'),
       'user' || lpad(u.i::text, :uw, '0')
FROM (SELECT i,
             floor(:groups * random() ^ 2)::int AS start,
             least(1 + floor(random() * :max_groups_per_user)::int, :groups) AS k
      FROM generate_series(1, :users) AS i) AS u,
     LATERAL generate_series(0, u.k - 1) AS j;
INSERT INTO group_members (gid, uid)
SELECT 'group' || lpad(g::text, :gw, '0'), users.uid
FROM users, generate_series(1, least(3, :groups)) AS g
WHERE users.uid NOT LIKE 'user%';
\endif

\if :part_sessions
TRUNCATE sessions;
\endif

\echo sessions
INSERT INTO sessions (id, token_hash, uid, stage, remember, created_at, last_seen_at,
                      expires_at, ip, user_agent, factors, auth_at)
SELECT id, token_hash, uid, 'authenticated', remember, created_at,
       least(created_at + (random() * 3600)::bigint, now_s), expires_at,
       ip, user_agent, factors, created_at
FROM (
  SELECT gen_random_uuid()::text AS id,
         encode(sha256(convert_to('twofold-scale-session-' || s || '-' || random(), 'UTF8')), 'hex') AS token_hash,
         'user' || lpad((1 + floor(random() * :users))::text, :uw, '0') AS uid,
         r.remember,
         r.created_at,
         r.created_at + CASE WHEN r.remember = 1 THEN 30 * 86400 ELSE 12 * 3600 END AS expires_at,
         r.now_s,
         '10.' || (s / 65536 % 256) || '.' || (s / 256 % 256) || '.' || (s % 256) AS ip,
         CASE s % 4 WHEN 0 THEN 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
                    WHEN 1 THEN 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36'
                    WHEN 2 THEN 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'
                    ELSE 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15' END AS user_agent,
         CASE WHEN s % 3 = 0 THEN 2 ELSE 1 END AS factors
  -- Nested subqueries, not LATERAL: a subquery with volatile functions is not pulled
  -- up, so random() is drawn per row.
  FROM (SELECT s, remember, now_s,
               now_s - CASE WHEN remember = 1 THEN (random() * 10 * 86400)::bigint
                            ELSE (random() * 6 * 3600)::bigint END AS created_at
        FROM (SELECT s, CASE WHEN random() < 0.8 THEN 1 ELSE 0 END AS remember,
                     extract(epoch FROM now())::bigint AS now_s
              FROM generate_series(1, :sessions) AS s) AS r0) AS r
) AS gen;

\echo 'indexes and constraints'
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT ddl FROM bench_ddl ORDER BY ord LOOP
    RAISE NOTICE '%', r.ddl;
    EXECUTE r.ddl;
  END LOOP;
END $$;

COMMIT;

\echo analyze
\if :part_all
VACUUM (ANALYZE) users, groups, group_members, sessions;
\else
VACUUM (ANALYZE) sessions;
\endif

SELECT (SELECT count(*) FROM users) AS users,
       (SELECT count(*) FROM groups) AS groups,
       (SELECT count(*) FROM group_members) AS memberships,
       (SELECT count(*) FROM sessions) AS sessions,
       pg_size_pretty(pg_database_size(current_database())) AS database_size;
