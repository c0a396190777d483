-- The databases and roles of a DBOS environment, as the guide makes them by hand: Conductor's
-- database owned in its `public` schema by Conductor's role, and the app's database for
-- `dbos migrate --app-role`, which itself grants the app role its tables. Run by psql as the
-- admin user (libpq's PG* variables), connected to the maintenance database. Safe to run again:
-- what exists is kept, and each role's password is set to the verifier sealed for it, the same
-- value every time until `dbos-gitops database rotate`.
--
-- Every value reaches SQL as a psql variable read from the environment (`\getenv`) and quoted
-- by psql itself: `:'name'` as a literal, `:"name"` as an identifier. No value is spliced into
-- the text by a shell, and no password is on a command line. The role password is a
-- SCRAM-SHA-256 verifier, so the server's statement log, if any, never sees the password.
\set ON_ERROR_STOP on
\getenv conductor_database DBOS_CONDUCTOR_DATABASE
\getenv app_database DBOS_APP_DATABASE
\getenv conductor_role DBOS_CONDUCTOR_ROLE
\getenv app_role DBOS_APP_ROLE
\getenv conductor_verifier DBOS_CONDUCTOR_SCRAM_VERIFIER
\getenv app_verifier DBOS_APP_SCRAM_VERIFIER
\if :{?conductor_database}
\else
DO $$ BEGIN RAISE EXCEPTION 'DBOS_CONDUCTOR_DATABASE is not set (the dbos-database-bootstrap ConfigMap)'; END $$;
\endif
\if :{?app_database}
\else
DO $$ BEGIN RAISE EXCEPTION 'DBOS_APP_DATABASE is not set (the dbos-database-bootstrap ConfigMap)'; END $$;
\endif
\if :{?conductor_role}
\else
DO $$ BEGIN RAISE EXCEPTION 'DBOS_CONDUCTOR_ROLE is not set (the dbos-database-bootstrap ConfigMap)'; END $$;
\endif
\if :{?app_role}
\else
DO $$ BEGIN RAISE EXCEPTION 'DBOS_APP_ROLE is not set (the dbos-database-bootstrap ConfigMap)'; END $$;
\endif
\if :{?conductor_verifier}
\else
DO $$ BEGIN RAISE EXCEPTION 'DBOS_CONDUCTOR_SCRAM_VERIFIER is not set (conductor-db, key scram-verifier)'; END $$;
\endif
\if :{?app_verifier}
\else
DO $$ BEGIN RAISE EXCEPTION 'DBOS_APP_SCRAM_VERIFIER is not set (dbos-app-db, key scram-verifier)'; END $$;
\endif

-- The roles, created when missing; their passwords set on every run.
SELECT format('CREATE ROLE %I WITH LOGIN', :'conductor_role')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'conductor_role') \gexec
SELECT format('CREATE ROLE %I WITH LOGIN', :'app_role')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'app_role') \gexec
ALTER ROLE :"conductor_role" WITH LOGIN PASSWORD :'conductor_verifier';
ALTER ROLE :"app_role" WITH LOGIN PASSWORD :'app_verifier';

-- The databases (owned by the admin user, who runs `dbos migrate` on the app's).
SELECT format('CREATE DATABASE %I', :'conductor_database')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = :'conductor_database') \gexec
SELECT format('CREATE DATABASE %I', :'app_database')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = :'app_database') \gexec
GRANT ALL PRIVILEGES ON DATABASE :"conductor_database" TO :"conductor_role";
GRANT CONNECT ON DATABASE :"app_database" TO :"app_role";

-- A non-superuser admin (RDS, Cloud SQL, Azure) may hand a schema only to a role it can act
-- as; since PostgreSQL 16 creating a role does not make the creator one of its members.
SELECT format('GRANT %I TO CURRENT_USER', :'conductor_role')
 WHERE NOT pg_catalog.pg_has_role(:'conductor_role', 'USAGE') \gexec

-- Conductor's role owns its database's `public` schema (PostgreSQL 15 and later let only the
-- database owner create there otherwise).
\connect :"conductor_database"
ALTER SCHEMA public OWNER TO :"conductor_role";
GRANT ALL ON SCHEMA public TO :"conductor_role";
\echo 'dbos-database-bootstrap: databases and roles are in place'
