-- Issue 19: every catalog row belongs to a user, and PostgreSQL itself keeps each user to their own rows.
--
-- A user is a PostgreSQL login role (a member of catalog_member; an admin also of catalog_admin). Every table that
-- holds footage data gets an `owner` column (the role that wrote the row: DEFAULT current_user) and row-level
-- security, forced so it holds for the tables' owner too: a user reads and writes only rows they own; an admin
-- reads and writes everyone's. A superuser bypasses row-level security, which is what the single-user catalog on
-- the embedded server is: its local account owns everything and is admin, and nothing changes for it.
-- Clip ids stay content-based within one owner's catalog: another user's id of the same file is keyed with their
-- role name (media/fingerprint.py), so two users never share a clip row, a media folder or a Dagster partition.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'catalog_member') THEN
        CREATE ROLE catalog_member NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'catalog_admin') THEN
        CREATE ROLE catalog_admin NOLOGIN;
    END IF;
    GRANT catalog_member TO catalog_admin;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE EXCEPTION 'the catalog needs the roles catalog_member and catalog_admin: connect once as a role with '
                    'CREATEROLE (or create them: CREATE ROLE catalog_member NOLOGIN; CREATE ROLE catalog_admin '
                    'NOLOGIN; GRANT catalog_member TO catalog_admin)';
END $$;

-- Whose catalog this was first: that role's clip ids are the plain content fingerprints (no key), so a catalog
-- made before users keeps every id. `auth init` hands it to the first admin.
CREATE TABLE IF NOT EXISTS catalog_owner (
    only_row  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    role_name NAME NOT NULL DEFAULT current_user,
    team      BOOLEAN NOT NULL DEFAULT FALSE        -- true once `auth init` made the first admin
);
INSERT INTO catalog_owner DEFAULT VALUES ON CONFLICT DO NOTHING;

-- The people who use a shared catalog (team mode). Passwords are never here: each user is a login role whose
-- SCRAM verifier the server keeps (the client computes it; the password never reaches the server).
CREATE TABLE IF NOT EXISTS catalog_users (
    email       TEXT PRIMARY KEY,
    role_name   NAME NOT NULL UNIQUE,
    is_admin    BOOLEAN NOT NULL DEFAULT FALSE,
    disabled_at TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_by  NAME NOT NULL DEFAULT current_user
);

-- Is the current role an admin of the catalog (a member of catalog_admin, or a superuser)? Wrapped in a scalar
-- subquery by every policy, so it runs once per statement, not once per row.
CREATE OR REPLACE FUNCTION catalog_is_admin() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT pg_has_role(current_user, 'catalog_admin', 'MEMBER')
$$;

DO $$
DECLARE
    owned TEXT[] := ARRAY['clips', 'clip_sources', 'scanned_files', 'technical_metadata', 'audio_tracks',
        'subtitle_tracks', 'thumbnails', 'frame_analysis', 'analysis', 'transcripts', 'segments', 'embeddings',
        'catalog_records', 'collections', 'collection_clips', 'tags', 'clip_tags', 'asset_versions', 'clip_facts',
        'clip_failures', 'ingest_claims', 'scene_looks', 'people', 'face_tracks', 'face_track_rejections',
        'voice_tracks'];
    t TEXT;
BEGIN
    FOREACH t IN ARRAY owned LOOP
        EXECUTE format('ALTER TABLE %I ADD COLUMN IF NOT EXISTS owner NAME NOT NULL DEFAULT current_user', t);
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('DROP POLICY IF EXISTS owner_only ON %I', t);
        EXECUTE format('CREATE POLICY owner_only ON %I USING (owner = current_user OR (SELECT catalog_is_admin()))'
                       ' WITH CHECK (owner = current_user OR (SELECT catalog_is_admin()))', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO catalog_member', t);
    END LOOP;
END $$;

-- Names a user chooses are unique within their own catalog only: one user's tag or collection name, or a path
-- they scanned, must neither clash with nor reveal another's.
ALTER TABLE tags DROP CONSTRAINT IF EXISTS tags_name_key;
CREATE UNIQUE INDEX IF NOT EXISTS tags_owner_name_idx ON tags (owner, name);
ALTER TABLE collections DROP CONSTRAINT IF EXISTS collections_name_key;
DROP INDEX IF EXISTS collections_name_nocase_idx;
CREATE UNIQUE INDEX IF NOT EXISTS collections_owner_name_nocase_idx ON collections (owner, lower(name));
ALTER TABLE scanned_files DROP CONSTRAINT IF EXISTS scanned_files_pkey;
ALTER TABLE scanned_files ADD PRIMARY KEY (owner, path);

-- Users: an admin sees and edits every user; a user sees their own row.
ALTER TABLE catalog_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE catalog_users FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS self_or_admin ON catalog_users;
CREATE POLICY self_or_admin ON catalog_users USING (role_name = current_user OR (SELECT catalog_is_admin()))
    WITH CHECK ((SELECT catalog_is_admin()));
GRANT SELECT ON catalog_users TO catalog_member;
GRANT INSERT, UPDATE, DELETE ON catalog_users TO catalog_admin;

-- What holds no footage data: the schema's own bookkeeping and the pipeline's step versions.
GRANT SELECT ON schema_migrations, catalog_owner TO catalog_member;
GRANT SELECT, INSERT, UPDATE ON pipeline_versions, pipeline_signature TO catalog_member;
GRANT UPDATE ON catalog_owner TO catalog_admin;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO catalog_member;
GRANT USAGE ON SCHEMA public TO catalog_member;

-- Managing users, for admins only, through functions that run with the rights of the role that made the schema
-- (it may create roles; an admin needs no CREATEROLE of their own). Each checks that the caller (session_user:
-- the role that logged in) is an admin, or is that schema owner itself (the local account, for `auth init`).
CREATE OR REPLACE FUNCTION catalog_caller_is_admin() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT pg_has_role(session_user, 'catalog_admin', 'MEMBER')
        OR session_user = (SELECT role_name FROM catalog_owner)
        OR (SELECT rolsuper FROM pg_roles WHERE rolname = session_user)
$$;

CREATE OR REPLACE FUNCTION catalog_add_user(p_email TEXT, p_role NAME, p_verifier TEXT, p_admin BOOLEAN)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF NOT catalog_caller_is_admin() THEN
        RAISE EXCEPTION 'only an admin adds users' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_verifier NOT LIKE 'SCRAM-SHA-256$%' THEN
        RAISE EXCEPTION 'a password must arrive as a SCRAM verifier, never in plain text';
    END IF;
    EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE catalog_member', p_role, p_verifier);
    IF p_admin THEN
        EXECUTE format('GRANT catalog_admin TO %I', p_role);
    END IF;
    INSERT INTO catalog_users (email, role_name, is_admin, created_by) VALUES (p_email, p_role, p_admin, session_user);
END $$;

CREATE OR REPLACE FUNCTION catalog_set_admin(p_email TEXT, p_admin BOOLEAN) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE r NAME;
BEGIN
    IF NOT catalog_caller_is_admin() THEN
        RAISE EXCEPTION 'only an admin changes roles' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT role_name INTO r FROM catalog_users WHERE email = p_email;
    IF r IS NULL THEN
        RAISE EXCEPTION 'no user %', p_email USING ERRCODE = 'no_data_found';
    END IF;
    EXECUTE format(CASE WHEN p_admin THEN 'GRANT catalog_admin TO %I' ELSE 'REVOKE catalog_admin FROM %I' END, r);
    UPDATE catalog_users SET is_admin = p_admin WHERE email = p_email;
END $$;

-- A disabled user can no longer log in, and their open connections are closed now.
CREATE OR REPLACE FUNCTION catalog_disable_user(p_email TEXT) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE r NAME; closed integer;
BEGIN
    IF NOT catalog_caller_is_admin() THEN
        RAISE EXCEPTION 'only an admin disables users' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT role_name INTO r FROM catalog_users WHERE email = p_email;
    IF r IS NULL THEN
        RAISE EXCEPTION 'no user %', p_email USING ERRCODE = 'no_data_found';
    END IF;
    EXECUTE format('ALTER ROLE %I NOLOGIN', r);
    UPDATE catalog_users SET disabled_at = now() WHERE email = p_email;
    SELECT count(pg_terminate_backend(pid)) INTO closed FROM pg_stat_activity WHERE usename = r;
    RETURN closed;
END $$;

-- `auth init`: the first admin, who takes over every row of the catalog as it was (its clip ids unchanged).
CREATE OR REPLACE FUNCTION catalog_hand_over(p_role NAME) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE t TEXT; moved integer := 0; n integer; previous NAME;
BEGIN
    IF NOT catalog_caller_is_admin() THEN
        RAISE EXCEPTION 'only the local account or an admin hands the catalog over' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT role_name INTO previous FROM catalog_owner;
    FOR t IN SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
             WHERE a.attname = 'owner' AND c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace LOOP
        EXECUTE format('UPDATE %I SET owner = %L WHERE owner = %L', t, p_role, previous);
        GET DIAGNOSTICS n = ROW_COUNT;
        moved := moved + n;
    END LOOP;
    UPDATE catalog_owner SET role_name = p_role, team = TRUE;
    RETURN moved;
END $$;

REVOKE ALL ON FUNCTION catalog_add_user(TEXT, NAME, TEXT, BOOLEAN), catalog_set_admin(TEXT, BOOLEAN),
    catalog_disable_user(TEXT), catalog_hand_over(NAME) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_add_user(TEXT, NAME, TEXT, BOOLEAN), catalog_set_admin(TEXT, BOOLEAN),
    catalog_disable_user(TEXT), catalog_hand_over(NAME) TO catalog_admin;
