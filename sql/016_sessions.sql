-- Issue 19: logins with expiring tokens. `auth login` proves the password once (SCRAM, as the user's own role) and
-- gets a session: a login role of its own (vcs_...) whose password is the access token, valid for minutes
-- (VALID UNTIL), and that may act only as its user (a member of that role; connections SET ROLE to it, so every
-- row-level rule of sql/014 applies unchanged). A refresh token (kept here only as its SHA-256) renews the access
-- token through catalog_refresh_session, which anyone may call as the role catalog_auth (its password is public:
-- it can do nothing else). Logging out or disabling the user ends the session and closes its connections.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'catalog_auth') THEN
        CREATE ROLE catalog_auth LOGIN PASSWORD 'catalog_auth';
    END IF;
END $$;

CREATE TABLE IF NOT EXISTS catalog_sessions (
    session_role    NAME PRIMARY KEY,
    user_role       NAME NOT NULL,
    refresh_hash    TEXT NOT NULL,
    access_expires  TIMESTAMPTZ NOT NULL,
    refresh_expires TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    refreshed_at    TIMESTAMPTZ,
    ended_at        TIMESTAMPTZ
);
ALTER TABLE catalog_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE catalog_sessions FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS own_or_admin ON catalog_sessions;
CREATE POLICY own_or_admin ON catalog_sessions USING (user_role = current_user OR (SELECT catalog_is_admin()));
GRANT SELECT ON catalog_sessions TO catalog_member;

CREATE OR REPLACE FUNCTION catalog_end_sessions(p_user NAME, p_session NAME) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
-- Ends the user's sessions (or one of them): no more logins with their tokens, their connections closed now.
DECLARE s NAME; closed integer := 0; n integer;
BEGIN
    FOR s IN SELECT session_role FROM catalog_sessions
             WHERE user_role = p_user AND ended_at IS NULL AND (p_session IS NULL OR session_role = p_session) LOOP
        EXECUTE format('ALTER ROLE %I NOLOGIN', s);
        UPDATE catalog_sessions SET ended_at = now() WHERE session_role = s;
        SELECT count(pg_terminate_backend(pid)) INTO n FROM pg_stat_activity
            WHERE usename = s AND pid <> pg_backend_pid();
        closed := closed + n;
    END LOOP;
    RETURN closed;
END $$;
REVOKE ALL ON FUNCTION catalog_end_sessions(NAME, NAME) FROM PUBLIC;

-- Called as the user's own role (password checked by the server): a new session for them.
CREATE OR REPLACE FUNCTION catalog_open_session(p_verifier TEXT, p_refresh_hash TEXT, p_access_seconds INTEGER,
                                                p_refresh_seconds INTEGER) RETURNS TABLE (session_role NAME,
                                                user_role NAME, access_expires TIMESTAMPTZ, refresh_expires TIMESTAMPTZ)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE me NAME := session_user; s NAME; old NAME;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM catalog_users u WHERE u.role_name = me AND u.disabled_at IS NULL) THEN
        RAISE EXCEPTION 'only a user of the catalog opens a session' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_verifier NOT LIKE 'SCRAM-SHA-256$%' THEN
        RAISE EXCEPTION 'a token must arrive as a SCRAM verifier';
    END IF;
    -- sessions that ended or ran out are dropped as new ones open
    FOR old IN SELECT c.session_role FROM catalog_sessions c
               WHERE c.ended_at IS NOT NULL OR c.refresh_expires < now() LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE usename = old) THEN
            EXECUTE format('DROP ROLE IF EXISTS %I', old);
            DELETE FROM catalog_sessions c WHERE c.session_role = old;
        END IF;
    END LOOP;
    s := 'vcs_' || replace(gen_random_uuid()::text, '-', '');
    EXECUTE format('CREATE ROLE %I LOGIN NOINHERIT PASSWORD %L VALID UNTIL %L IN ROLE %I', s, p_verifier,
                   (now() + make_interval(secs => p_access_seconds))::text, me);
    INSERT INTO catalog_sessions (session_role, user_role, refresh_hash, access_expires, refresh_expires)
        VALUES (s, me, p_refresh_hash, now() + make_interval(secs => p_access_seconds),
                now() + make_interval(secs => p_refresh_seconds));
    RETURN QUERY SELECT c.session_role, c.user_role, c.access_expires, c.refresh_expires
                 FROM catalog_sessions c WHERE c.session_role = s;
END $$;
REVOKE ALL ON FUNCTION catalog_open_session(TEXT, TEXT, INTEGER, INTEGER) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_open_session(TEXT, TEXT, INTEGER, INTEGER) TO catalog_member;

-- Called as catalog_auth with the refresh token's hash: a new access token (verifier) and refresh token (hash).
CREATE OR REPLACE FUNCTION catalog_refresh_session(p_session NAME, p_refresh_hash TEXT, p_new_refresh_hash TEXT,
                                                   p_verifier TEXT, p_access_seconds INTEGER) RETURNS TIMESTAMPTZ
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE found catalog_sessions; expires TIMESTAMPTZ;
BEGIN
    SELECT * INTO found FROM catalog_sessions WHERE session_role = p_session FOR UPDATE;
    IF found IS NULL OR found.refresh_hash <> p_refresh_hash OR found.ended_at IS NOT NULL
       OR found.refresh_expires < now()
       OR NOT EXISTS (SELECT 1 FROM catalog_users u WHERE u.role_name = found.user_role AND u.disabled_at IS NULL) THEN
        RAISE EXCEPTION 'this session has ended: log in again' USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    IF p_verifier NOT LIKE 'SCRAM-SHA-256$%' THEN
        RAISE EXCEPTION 'a token must arrive as a SCRAM verifier';
    END IF;
    expires := now() + make_interval(secs => p_access_seconds);
    EXECUTE format('ALTER ROLE %I LOGIN PASSWORD %L VALID UNTIL %L', p_session, p_verifier, expires::text);
    UPDATE catalog_sessions SET refresh_hash = p_new_refresh_hash, access_expires = expires, refreshed_at = now()
        WHERE session_role = p_session;
    RETURN expires;
END $$;
REVOKE ALL ON FUNCTION catalog_refresh_session(NAME, TEXT, TEXT, TEXT, INTEGER) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_refresh_session(NAME, TEXT, TEXT, TEXT, INTEGER) TO catalog_auth;

-- `auth logout`: the session ends itself.
CREATE OR REPLACE FUNCTION catalog_logout() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE who NAME;
BEGIN
    SELECT user_role INTO who FROM catalog_sessions WHERE session_role = session_user;
    IF who IS NULL THEN
        RETURN 0;
    END IF;
    RETURN catalog_end_sessions(who, session_user);
END $$;
REVOKE ALL ON FUNCTION catalog_logout() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_logout() TO catalog_member;

-- Disabling a user ends their sessions too (sql/014's function, now also closing those).
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
    closed := catalog_end_sessions(r, NULL);
    SELECT closed + count(pg_terminate_backend(pid)) INTO closed FROM pg_stat_activity WHERE usename = r;
    RETURN closed;
END $$;
