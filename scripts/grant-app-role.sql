-- What the app's database role may do at run time, and no more (docs/operations.md, "Database roles").
--
-- Run as the owner role (the role that runs `manage.py migrate` and owns every table), once, and
-- again after any migration if you like (it is idempotent):
--
--   psql -v owner_role=followup_owner -v app_role=followup_app -d "$OWNER_DATABASE_URL" -f scripts/grant-app-role.sql
--
-- The app role reads and writes rows. It owns no table, so it cannot drop or disable the audit
-- tables' triggers (append-only rows, no TRUNCATE), and it has no TRUNCATE privilege of its own.
-- tests/test_audit_hardening.py runs this file and then the app as the app role.
\set ON_ERROR_STOP on

-- Nobody else creates objects in the schema (PostgreSQL 15 and later already revoke this).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app_role";

-- The tables and sequences there now...
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app_role";

-- ...and those that later migrations create.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner_role" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner_role" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"app_role";
