-- Issue 19: wrong passwords are slowed down. PostgreSQL checks a login role's password itself and offers no hook to
-- delay repeated failures (the embedded build has no auth_delay), so user roles no longer log in at all: a user's
-- SCRAM verifier is kept here, out of every user's reach, and `auth login` proves the password to
-- catalog_login (as the public role catalog_auth) with a SCRAM client proof over a one-time challenge. The password
-- never reaches the server (only a proof that is worthless once its challenge is used), and each e-mail address
-- gets three tries, then waits 1, 2, 4 ... seconds (at most 15 minutes) between tries, counted in the database so
-- that parallel connections cannot skip the wait. A good login opens a session (sql/016) as before.

CREATE TABLE IF NOT EXISTS catalog_passwords (
    role_name NAME PRIMARY KEY,
    verifier  TEXT NOT NULL CHECK (verifier LIKE 'SCRAM-SHA-256$%')
);
REVOKE ALL ON catalog_passwords FROM PUBLIC;

CREATE TABLE IF NOT EXISTS catalog_login_attempts (
    email         TEXT PRIMARY KEY,
    nonce         TEXT,
    nonce_expires TIMESTAMPTZ,
    failures      INTEGER NOT NULL DEFAULT 0,
    locked_until  TIMESTAMPTZ,
    last_try      TIMESTAMPTZ NOT NULL DEFAULT now()
);
REVOKE ALL ON catalog_login_attempts FROM PUBLIC;

-- Users made before: their verifier moves here (readable where the catalog's maker is a superuser, as on the
-- embedded server), and their roles stop logging in.
DO $$
DECLARE r NAME;
BEGIN
    BEGIN
        INSERT INTO catalog_passwords (role_name, verifier)
            SELECT u.role_name, a.rolpassword FROM catalog_users u JOIN pg_authid a ON a.rolname = u.role_name
            WHERE a.rolpassword LIKE 'SCRAM-SHA-256$%'
            ON CONFLICT (role_name) DO NOTHING;
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE WARNING 'existing users keep no password (pg_authid is not readable here): add them again';
    END;
    FOR r IN SELECT role_name FROM catalog_users LOOP
        EXECUTE format('ALTER ROLE %I NOLOGIN PASSWORD NULL', r);
    END LOOP;
END $$;

CREATE OR REPLACE FUNCTION catalog_hmac(p_key BYTEA, p_message BYTEA) RETURNS BYTEA
LANGUAGE plpgsql IMMUTABLE STRICT SET search_path = pg_catalog AS $$
-- HMAC-SHA-256 (RFC 2104) on the server's own sha256(): no extension needed.
DECLARE k BYTEA; inner_pad BYTEA; outer_pad BYTEA;
BEGIN
    k := CASE WHEN length(p_key) > 64 THEN sha256(p_key) ELSE p_key END;
    k := k || decode(repeat('00', 64 - length(k)), 'hex');
    inner_pad := k;
    outer_pad := k;
    FOR i IN 0..63 LOOP
        inner_pad := set_byte(inner_pad, i, get_byte(k, i) # 54);
        outer_pad := set_byte(outer_pad, i, get_byte(k, i) # 92);
    END LOOP;
    RETURN sha256(outer_pad || sha256(inner_pad || p_message));
END $$;

CREATE OR REPLACE FUNCTION catalog_xor(p_a BYTEA, p_b BYTEA) RETURNS BYTEA
LANGUAGE plpgsql IMMUTABLE STRICT SET search_path = pg_catalog AS $$
DECLARE result BYTEA := p_a;
BEGIN
    IF length(p_a) <> length(p_b) THEN
        RETURN NULL;
    END IF;
    FOR i IN 0..length(p_a) - 1 LOOP
        result := set_byte(result, i, get_byte(p_a, i) # get_byte(p_b, i));
    END LOOP;
    RETURN result;
END $$;

-- Adding a user: a role that cannot log in (sessions act as it), its verifier kept here.
CREATE OR REPLACE FUNCTION catalog_add_user(p_email TEXT, p_role NAME, p_verifier TEXT, p_admin BOOLEAN)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF NOT catalog_caller_is_admin() THEN
        RAISE EXCEPTION 'only an admin adds users' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_verifier NOT LIKE 'SCRAM-SHA-256$%' THEN
        RAISE EXCEPTION 'a password must arrive as a SCRAM verifier, never in plain text';
    END IF;
    EXECUTE format('CREATE ROLE %I NOLOGIN IN ROLE catalog_member', p_role);
    IF p_admin THEN
        EXECUTE format('GRANT catalog_admin TO %I', p_role);
    END IF;
    INSERT INTO catalog_users (email, role_name, is_admin, created_by) VALUES (p_email, p_role, p_admin, session_user);
    INSERT INTO catalog_passwords (role_name, verifier) VALUES (p_role, p_verifier);
END $$;

-- The role of a user by e-mail, or no_data_found naming the address (for the admin functions below).
CREATE OR REPLACE FUNCTION catalog_user_role(p_email TEXT) RETURNS NAME
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE r NAME;
BEGIN
    SELECT role_name INTO r FROM catalog_users WHERE email = p_email;
    IF r IS NULL THEN
        RAISE EXCEPTION 'no user %', p_email USING ERRCODE = 'no_data_found';
    END IF;
    RETURN r;
END $$;
REVOKE ALL ON FUNCTION catalog_user_role(TEXT) FROM PUBLIC;

-- Disabling no longer touches the user role's LOGIN (it has none): sessions end, and no new one opens.
CREATE OR REPLACE FUNCTION catalog_disable_user(p_email TEXT) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE r NAME;
BEGIN
    IF NOT catalog_caller_is_admin() THEN
        RAISE EXCEPTION 'only an admin disables users' USING ERRCODE = 'insufficient_privilege';
    END IF;
    r := catalog_user_role(p_email);
    UPDATE catalog_users SET disabled_at = now() WHERE email = p_email;
    RETURN catalog_end_sessions(r, NULL)
        + (SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity WHERE usename = r);
END $$;

-- A session for a user whose password was proven (sql/016's catalog_open_session, for a caller named here).
CREATE OR REPLACE FUNCTION catalog_start_session(p_user NAME, p_verifier TEXT, p_refresh_hash TEXT,
                                                 p_access_seconds INTEGER, p_refresh_seconds INTEGER)
RETURNS TABLE (session_role NAME, user_role NAME, access_expires TIMESTAMPTZ, refresh_expires TIMESTAMPTZ)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE s NAME; old NAME;
BEGIN
    IF p_verifier NOT LIKE 'SCRAM-SHA-256$%' THEN
        RAISE EXCEPTION 'a token must arrive as a SCRAM verifier';
    END IF;
    FOR old IN SELECT c.session_role FROM catalog_sessions c
               WHERE c.ended_at IS NOT NULL OR c.refresh_expires < now() LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE usename = old) THEN
            EXECUTE format('DROP ROLE IF EXISTS %I', old);
            DELETE FROM catalog_sessions c WHERE c.session_role = old;
        END IF;
    END LOOP;
    s := 'vcs_' || replace(gen_random_uuid()::text, '-', '');
    EXECUTE format('CREATE ROLE %I LOGIN NOINHERIT PASSWORD %L VALID UNTIL %L IN ROLE %I', s, p_verifier,
                   (now() + make_interval(secs => p_access_seconds))::text, p_user);
    INSERT INTO catalog_sessions (session_role, user_role, refresh_hash, access_expires, refresh_expires)
        VALUES (s, p_user, p_refresh_hash, now() + make_interval(secs => p_access_seconds),
                now() + make_interval(secs => p_refresh_seconds));
    RETURN QUERY SELECT c.session_role, c.user_role, c.access_expires, c.refresh_expires
                 FROM catalog_sessions c WHERE c.session_role = s;
END $$;
REVOKE ALL ON FUNCTION catalog_start_session(NAME, TEXT, TEXT, INTEGER, INTEGER) FROM PUBLIC;
DROP FUNCTION IF EXISTS catalog_open_session(TEXT, TEXT, INTEGER, INTEGER);

-- Step 1 of `auth login`: the salt and rounds of the user's verifier and a one-time challenge. An unknown address
-- gets a salt made from the address, so the answer does not say who has an account.
CREATE OR REPLACE FUNCTION catalog_login_challenge(p_email TEXT)
RETURNS TABLE (salt TEXT, iterations INTEGER, nonce TEXT)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
#variable_conflict use_column
DECLARE v TEXT; n TEXT := replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
BEGIN
    SELECT p.verifier INTO v FROM catalog_users u JOIN catalog_passwords p USING (role_name) WHERE u.email = p_email;
    INSERT INTO catalog_login_attempts (email, nonce, nonce_expires) VALUES (p_email, n, now() + interval '2 minutes')
        ON CONFLICT (email) DO UPDATE SET nonce = excluded.nonce, nonce_expires = excluded.nonce_expires;
    DELETE FROM catalog_login_attempts a WHERE a.last_try < now() - interval '1 day' AND a.failures = 0
        AND a.email <> p_email;
    IF v IS NULL THEN
        RETURN QUERY SELECT encode(substr(sha256(convert_to('video-catalog ' || p_email, 'UTF8')), 1, 16), 'base64'),
                            4096, n;
    ELSE
        RETURN QUERY SELECT split_part(split_part(v, '$', 2), ':', 2), split_part(split_part(v, '$', 2), ':', 1)::int, n;
    END IF;
END $$;

-- Step 2: the client's proof (ClientKey XOR HMAC(StoredKey, "email,nonce"), as in SCRAM) checked against the
-- verifier. Answers outcome 'ok' with a session, 'wrong' (and how long until the next try), or 'wait' when tried
-- too soon: the failures are counted (a row update, not an error, so it stays), and one address's tries are
-- serialized on its row, so parallel connections cannot skip the wait.
CREATE OR REPLACE FUNCTION catalog_login(p_email TEXT, p_nonce TEXT, p_proof TEXT, p_verifier TEXT,
                                         p_refresh_hash TEXT, p_access_seconds INTEGER, p_refresh_seconds INTEGER)
RETURNS TABLE (outcome TEXT, wait_seconds INTEGER, session_role NAME, user_role NAME, access_expires TIMESTAMPTZ,
               refresh_expires TIMESTAMPTZ)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
#variable_conflict use_column
DECLARE
    attempt catalog_login_attempts;
    who NAME;
    v TEXT;
    stored BYTEA;
    proven BOOLEAN := FALSE;
    pause INTEGER;
BEGIN
    SELECT * INTO attempt FROM catalog_login_attempts a WHERE a.email = p_email FOR UPDATE;
    IF attempt IS NULL THEN
        RETURN QUERY SELECT 'wrong'::text, 0, NULL::name, NULL::name, NULL::timestamptz, NULL::timestamptz;
        RETURN;
    END IF;
    IF attempt.locked_until > now() THEN
        RETURN QUERY SELECT 'wait'::text, ceil(extract(epoch FROM attempt.locked_until - now()))::int, NULL::name,
                            NULL::name, NULL::timestamptz, NULL::timestamptz;
        RETURN;
    END IF;
    SELECT u.role_name, p.verifier INTO who, v FROM catalog_users u JOIN catalog_passwords p USING (role_name)
        WHERE u.email = p_email AND u.disabled_at IS NULL;
    IF v IS NOT NULL AND attempt.nonce = p_nonce AND attempt.nonce_expires > now() THEN
        stored := decode(split_part(split_part(v, '$', 3), ':', 1), 'base64');
        proven := sha256(catalog_xor(decode(p_proof, 'base64'),
                                     catalog_hmac(stored, convert_to(p_email || ',' || p_nonce, 'UTF8')))) = stored;
    END IF;
    IF NOT proven THEN
        pause := CASE WHEN attempt.failures + 1 < 3 THEN 0 ELSE least(power(2, attempt.failures + 1 - 3)::int, 900) END;
        UPDATE catalog_login_attempts a SET nonce = NULL, failures = a.failures + 1, last_try = now(),
            locked_until = now() + make_interval(secs => pause) WHERE a.email = p_email;
        RETURN QUERY SELECT 'wrong'::text, pause, NULL::name, NULL::name, NULL::timestamptz, NULL::timestamptz;
        RETURN;
    END IF;
    UPDATE catalog_login_attempts a SET nonce = NULL, failures = 0, locked_until = NULL, last_try = now()
        WHERE a.email = p_email;
    RETURN QUERY SELECT 'ok'::text, 0, s.session_role, s.user_role, s.access_expires, s.refresh_expires
                 FROM catalog_start_session(who, p_verifier, p_refresh_hash, p_access_seconds, p_refresh_seconds) s;
END $$;

REVOKE ALL ON FUNCTION catalog_login_challenge(TEXT) FROM PUBLIC;
REVOKE ALL ON FUNCTION catalog_login(TEXT, TEXT, TEXT, TEXT, TEXT, INTEGER, INTEGER) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_login_challenge(TEXT) TO catalog_auth;
GRANT EXECUTE ON FUNCTION catalog_login(TEXT, TEXT, TEXT, TEXT, TEXT, INTEGER, INTEGER) TO catalog_auth;

-- `admin users password EMAIL`: an admin sets a new password (a verifier made on the admin's machine); the user's
-- sessions end and their count of wrong tries starts again.
CREATE OR REPLACE FUNCTION catalog_set_password(p_email TEXT, p_verifier TEXT) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE r NAME;
BEGIN
    IF NOT catalog_caller_is_admin() THEN
        RAISE EXCEPTION 'only an admin sets passwords' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_verifier NOT LIKE 'SCRAM-SHA-256$%' THEN
        RAISE EXCEPTION 'a password must arrive as a SCRAM verifier, never in plain text';
    END IF;
    r := catalog_user_role(p_email);
    INSERT INTO catalog_passwords (role_name, verifier) VALUES (r, p_verifier)
        ON CONFLICT (role_name) DO UPDATE SET verifier = excluded.verifier;
    DELETE FROM catalog_login_attempts WHERE email = p_email;
    RETURN catalog_end_sessions(r, NULL);
END $$;
REVOKE ALL ON FUNCTION catalog_set_password(TEXT, TEXT) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_set_password(TEXT, TEXT) TO catalog_admin;
