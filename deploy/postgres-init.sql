-- Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d),
-- as the POSTGRES_USER superuser (buddy). One database per service: each service owns
-- its event store, outbox and read models; services share nothing but events.
CREATE DATABASE buddy_recruitment OWNER buddy;
CREATE DATABASE buddy_matching OWNER buddy;
CREATE DATABASE buddy_followup OWNER buddy;
CREATE DATABASE buddy_reporting OWNER buddy;
CREATE DATABASE buddy_web OWNER buddy;  -- the web front's sessions only
CREATE DATABASE keycloak OWNER buddy;  -- the identity provider's own (Keycloak)

-- Nobody but the owner may connect (PUBLIC gets CONNECT by default).
REVOKE ALL ON DATABASE buddy_recruitment FROM PUBLIC;
REVOKE ALL ON DATABASE buddy_matching FROM PUBLIC;
REVOKE ALL ON DATABASE buddy_followup FROM PUBLIC;
REVOKE ALL ON DATABASE buddy_reporting FROM PUBLIC;
REVOKE ALL ON DATABASE buddy_web FROM PUBLIC;
REVOKE ALL ON DATABASE keycloak FROM PUBLIC;
