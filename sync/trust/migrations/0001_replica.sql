-- 0001: the trust's replica of every kiosk, with row-level security.
--
-- Roles (cluster-wide, made once): trust_kiosks (every kiosk's login is a member),
-- trust_office (a school's office readers), trust_readers (trust-wide readers).
-- Kiosks write only their own rows; office readers read only their school's; trust
-- readers read all. The tables' owner (whoever runs kiosk trust init) is the admin.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'trust_kiosks') THEN
        CREATE ROLE trust_kiosks NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'trust_office') THEN
        CREATE ROLE trust_office NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'trust_readers') THEN
        CREATE ROLE trust_readers NOLOGIN;
    END IF;
    -- Only the trust's roles may connect to this database.
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO trust_kiosks, trust_office, trust_readers',
                   current_database());
    -- Kiosks COPY each batch into a temporary table, then upsert from it.
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO trust_kiosks', current_database());
END
$$;

-- The trust schema and trust.schema_version are made by the migration runner.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA trust TO trust_kiosks, trust_office, trust_readers;
GRANT SELECT ON trust.schema_version TO trust_kiosks, trust_office, trust_readers;

CREATE TABLE trust.school (
    school_id text PRIMARY KEY CHECK (school_id ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
    name text NOT NULL
);

-- One row per kiosk: its login role, and how far its journal has been applied.
CREATE TABLE trust.kiosk (
    kiosk_id text PRIMARY KEY CHECK (kiosk_id ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
    school_id text NOT NULL REFERENCES trust.school,
    role_name name NOT NULL UNIQUE,
    incarnation text,               -- the kiosk database's incarnation last reconciled
    pushed_seq bigint NOT NULL DEFAULT 0,  -- its journal is applied up to here
    pushed_at timestamptz,
    reconciled_at timestamptz
);

-- Office readers: each reads one school.
CREATE TABLE trust.reader (
    role_name name PRIMARY KEY,
    school_id text NOT NULL REFERENCES trust.school
);

-- Replicated tables: the kiosk's columns (sync/trust/tables.py) under (kiosk_id, id).
-- No foreign keys between them: the kiosk enforces its own, and a row sent as it is
-- now may name a row that arrives in the next batch.
CREATE TABLE trust.staff (
    kiosk_id text NOT NULL,
    school_id text NOT NULL,
    id bigint NOT NULL,
    name text NOT NULL,
    known_as text NOT NULL,
    role text NOT NULL,
    active boolean NOT NULL,
    PRIMARY KEY (kiosk_id, id)
);

CREATE TABLE trust.item (
    kiosk_id text NOT NULL,
    school_id text NOT NULL,
    id bigint NOT NULL,
    asset_tag text NOT NULL,
    name text NOT NULL,
    kind text NOT NULL,
    home_class text NOT NULL,
    contents jsonb NOT NULL,
    phone_number text NOT NULL,
    status text NOT NULL,
    PRIMARY KEY (kiosk_id, id)
);

CREATE TABLE trust.loan (
    kiosk_id text NOT NULL,
    school_id text NOT NULL,
    id bigint NOT NULL,
    item_id bigint NOT NULL,
    borrower_id bigint,
    out_at timestamptz NOT NULL,
    out_clock_synced boolean NOT NULL,
    due_at timestamptz,
    trip text NOT NULL,
    off_site boolean NOT NULL,
    closed_at timestamptz,
    closed_by_id bigint,
    outcome text,
    checklist jsonb,
    anonymised boolean NOT NULL,
    PRIMARY KEY (kiosk_id, id)
);
-- What is out now: a few hundred rows per school among millions of past loans.
CREATE INDEX loan_open_by_school ON trust.loan (school_id, due_at) WHERE closed_at IS NULL;
CREATE INDEX loan_open_by_due ON trust.loan (due_at) WHERE closed_at IS NULL;

CREATE TABLE trust.event (
    kiosk_id text NOT NULL,
    school_id text NOT NULL,
    id bigint NOT NULL,
    at timestamptz NOT NULL,
    clock_synced boolean NOT NULL,
    action text NOT NULL,
    staff_id bigint,
    item_id bigint,
    loan_id bigint,
    reader text NOT NULL,
    PRIMARY KEY (kiosk_id, id)
);

-- Row-level security. The sub-selects run once per statement (an InitPlan), and
-- each reads trust.kiosk / trust.reader under their own policies below.
ALTER TABLE trust.school ENABLE ROW LEVEL SECURITY;
ALTER TABLE trust.kiosk ENABLE ROW LEVEL SECURITY;
ALTER TABLE trust.reader ENABLE ROW LEVEL SECURITY;

CREATE POLICY own_row ON trust.kiosk FOR SELECT TO trust_kiosks
    USING (role_name = current_user);
CREATE POLICY own_progress ON trust.kiosk FOR UPDATE TO trust_kiosks
    USING (role_name = current_user) WITH CHECK (role_name = current_user);
GRANT SELECT ON trust.kiosk TO trust_kiosks, trust_office, trust_readers;
-- A kiosk records its progress, never its school or role.
GRANT UPDATE (incarnation, pushed_seq, pushed_at, reconciled_at) ON trust.kiosk TO trust_kiosks;

CREATE POLICY own_row ON trust.reader FOR SELECT TO trust_office
    USING (role_name = current_user);
GRANT SELECT ON trust.reader TO trust_office;

CREATE POLICY own_school ON trust.kiosk FOR SELECT TO trust_office
    USING (school_id = (SELECT r.school_id FROM trust.reader r WHERE r.role_name = current_user));
CREATE POLICY everything ON trust.kiosk FOR SELECT TO trust_readers USING (true);

CREATE POLICY own_school ON trust.school FOR SELECT TO trust_kiosks
    USING (school_id = (SELECT k.school_id FROM trust.kiosk k WHERE k.role_name = current_user));
CREATE POLICY own_school_office ON trust.school FOR SELECT TO trust_office
    USING (school_id = (SELECT r.school_id FROM trust.reader r WHERE r.role_name = current_user));
CREATE POLICY everything ON trust.school FOR SELECT TO trust_readers USING (true);
GRANT SELECT ON trust.school TO trust_kiosks, trust_office, trust_readers;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['staff', 'item', 'loan', 'event'] LOOP
        EXECUTE format('ALTER TABLE trust.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format($p$
            CREATE POLICY own_rows ON trust.%I FOR ALL TO trust_kiosks
            USING (kiosk_id = (SELECT k.kiosk_id FROM trust.kiosk k
                               WHERE k.role_name = current_user))
            WITH CHECK (
                kiosk_id = (SELECT k.kiosk_id FROM trust.kiosk k WHERE k.role_name = current_user)
                AND school_id = (SELECT k.school_id FROM trust.kiosk k
                                 WHERE k.role_name = current_user))
        $p$, t);
        EXECUTE format($p$
            CREATE POLICY own_school ON trust.%I FOR SELECT TO trust_office
            USING (school_id = (SELECT r.school_id FROM trust.reader r
                                WHERE r.role_name = current_user))
        $p$, t);
        EXECUTE format(
            'CREATE POLICY everything ON trust.%I FOR SELECT TO trust_readers USING (true)', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON trust.%I TO trust_kiosks', t);
        EXECUTE format('GRANT SELECT ON trust.%I TO trust_office, trust_readers', t);
    END LOOP;
END
$$;
