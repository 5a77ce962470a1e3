#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d):
# one database per service, owned by the application role. Each service reads and writes
# only its own database.
set -eu
psql -v ON_ERROR_STOP=1 -v app_password="$APP_DB_PASSWORD" \
     --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'EOSQL'
CREATE ROLE medcommunity LOGIN PASSWORD :'app_password';
CREATE DATABASE pharmacy OWNER medcommunity;
CREATE DATABASE finance OWNER medcommunity;
CREATE DATABASE staffing OWNER medcommunity;
CREATE DATABASE referral OWNER medcommunity;
CREATE DATABASE reporting OWNER medcommunity;
CREATE DATABASE gateway OWNER medcommunity;
CREATE DATABASE quality OWNER medcommunity;
CREATE DATABASE administration OWNER medcommunity;
CREATE DATABASE console OWNER medcommunity;
EOSQL
