-- 0003: the web login's all-schools page as fast as the trust readers' (same rows, same walls).
--
-- Measured on the bench data set (10M loans over 50 schools, 15,000 out now; bench_trust),
-- the page's three statements as trust_web took 28 + 41 + 59 ms where a trust reader's took
-- 1 + 27 + 15 ms. Two causes, both fixed here without widening what the login sees:
--
-- 1. The scope test was `school_id = ANY (<every school id>)` for a trust account: per row, a
--    walk along a 50-element array (an array from a sub-select is not hashed), and to the
--    planner a filter of unknown selectivity, so for "the 200 longest overdue" it sorted all
--    12,400 overdue loans instead of reading loan_open_by_due in order and stopping at 200.
--    Now: `(SELECT trust.web_all()) OR school_id = (SELECT trust.web_school())`. Both are
--    computed once per statement (init plans); for '*' the test is one boolean per row, for
--    a school an equality the planner can estimate. Unset or empty scope: web_all() is false
--    and web_school() NULL, so still no loans and no kiosks at all.
-- 2. The trip phones out now were found by reading every loan out now and joining items;
--    loan_open_by_item lets the planner go from the trust's trip phones (a few thousand
--    items) to the loan each has out, if any.
--
-- "Out now" stays the opaque PL/pgSQL test of 0002 (why: see there).

CREATE FUNCTION trust.web_all() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('kiosk.web_scope', true), '') = '*' $$;

-- The one school this transaction's web scope names (NULL for '*', unset or empty).
CREATE FUNCTION trust.web_school() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(nullif(coalesce(current_setting('kiosk.web_scope', true), ''), '*'), '') $$;

DROP POLICY web_scope ON trust.kiosk;
CREATE POLICY web_scope ON trust.kiosk FOR SELECT TO trust_web
    USING ((SELECT trust.web_all()) OR school_id = (SELECT trust.web_school()));

DROP POLICY web_out_now ON trust.loan;
CREATE POLICY web_out_now ON trust.loan FOR SELECT TO trust_web
    USING (trust.web_out_now(closed_at)
           AND ((SELECT trust.web_all()) OR school_id = (SELECT trust.web_school())));

-- Nothing uses it now (web_borrowers reads through trust.loan's policy).
DROP FUNCTION trust.web_schools();

-- An item's loan out now, if any: the trip phones out across the trust without reading
-- every loan out now.
CREATE INDEX loan_open_by_item ON trust.loan (kiosk_id, item_id) WHERE closed_at IS NULL;
