-- 0002: the login `kiosk web` uses for the trust's pages, reading no more than they show.
--
-- trust_web (a group role; `kiosk trust add-reader NAME --web` makes its logins, web_<name>):
-- - loans out now only (never the years of past loans), and only the columns the pages
--   show (no checklist answers, outcomes or who returned what);
-- - the names of staff who have something out now: never the staff list, never roles;
-- - items' names, asset tags, kinds and phone numbers; school names; when each kiosk last
--   sent its changes. Never the event log, the office readers, kiosks' roles or incarnations;
-- - loans (and so their borrowers) and kiosks only of the schools the web names for the
--   signed-in account, in each transaction: SET LOCAL kiosk.web_scope = 'hillside' (one
--   school) or '*' (a trust account). Unset, it reads no loans at all.
-- The web checks each account's scope itself; this is the second wall behind that check.
--
-- Why school names and items are not narrowed too: a scope filter on trust.school (50 rows)
-- makes the planner expect a handful of schools and walk every open loan school by school
-- (the all-schools page went from 25 ms to 150 ms over 10M loans), and neither holds
-- anything about people. Why "out now" is a PL/pgSQL function: written as closed_at IS NULL
-- beside the same test in the query, the planner counts the 0.15% twice and expects a few
-- rows where there are 15,000; the function is opaque to it, as the test should be.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'trust_web') THEN
        CREATE ROLE trust_web NOLOGIN;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO trust_web', current_database());
END
$$;
GRANT USAGE ON SCHEMA trust TO trust_web;
GRANT SELECT ON trust.schema_version TO trust_web;

-- The schools this transaction's web scope takes in (none when it is not set).
CREATE FUNCTION trust.web_schools() RETURNS text[]
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
        SELECT CASE coalesce(current_setting('kiosk.web_scope', true), '')
            WHEN '*' THEN (SELECT coalesce(array_agg(s.school_id), '{}') FROM trust.school s)
            WHEN '' THEN '{}'::text[]
            ELSE ARRAY[current_setting('kiosk.web_scope', true)]
        END
    $$;

CREATE FUNCTION trust.web_out_now(closed timestamptz) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$ BEGIN RETURN closed IS NULL; END $$;

GRANT SELECT (school_id, name) ON trust.school TO trust_web;
CREATE POLICY web_names ON trust.school FOR SELECT TO trust_web USING (true);

GRANT SELECT (kiosk_id, school_id, pushed_seq, pushed_at) ON trust.kiosk TO trust_web;
CREATE POLICY web_scope ON trust.kiosk FOR SELECT TO trust_web
    USING (school_id = ANY (CAST((SELECT trust.web_schools()) AS text[])));

GRANT SELECT (kiosk_id, school_id, id, asset_tag, name, kind, phone_number)
    ON trust.item TO trust_web;
CREATE POLICY web_items ON trust.item FOR SELECT TO trust_web USING (true);

GRANT SELECT (kiosk_id, school_id, id, item_id, borrower_id, out_at, out_clock_synced, due_at,
              trip, off_site, closed_at)
    ON trust.loan TO trust_web;
CREATE POLICY web_out_now ON trust.loan FOR SELECT TO trust_web
    USING (trust.web_out_now(closed_at)
           AND school_id = ANY (CAST((SELECT trust.web_schools()) AS text[])));

-- Who has something out now, found without reading past loans.
CREATE INDEX loan_open_by_borrower ON trust.loan (kiosk_id, borrower_id) WHERE closed_at IS NULL;

GRANT SELECT (kiosk_id, school_id, id, name, known_as) ON trust.staff TO trust_web;
-- Read through trust.loan's policy above: borrowers within the scope, of loans out now.
CREATE POLICY web_borrowers ON trust.staff FOR SELECT TO trust_web
    USING (EXISTS (
        SELECT 1 FROM trust.loan l
        WHERE l.kiosk_id = staff.kiosk_id AND l.borrower_id = staff.id AND l.closed_at IS NULL));
