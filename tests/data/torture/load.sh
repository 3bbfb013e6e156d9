#!/usr/bin/env bash
# Build a torture database (issue 15): every type and schema shape of one dialect, from the SQL beside this file.
# usage: load.sh postgres DBNAME | load.sh mariadb DBNAME | load.sh sqlite FILE
#   postgres: DBNAME is dropped and recreated; schemas public, hr and sales. Connection: libpq variables
#             (PGHOST, PGPORT, PGUSER, PGPASSWORD), as tests/data/load-postgres.sh.
#   mariadb:  DBNAME and DBNAME_ext (the target of a cross-database FK) are dropped and recreated.
#             Connection: MARIADB (default "mariadb"; add -h/-u/-p flags there), as tests/data/load-mariadb.sh.
#   sqlite:   FILE is replaced.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DIALECT=${1:?usage: $0 postgres|mariadb|sqlite DBNAME|FILE}; DB=${2:?usage: $0 postgres|mariadb|sqlite DBNAME|FILE}
case "$DIALECT" in
  postgres|postgresql)
    dropdb --if-exists "$DB" && createdb "$DB"
    psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -f "$HERE/postgres.sql" >/dev/null ;;
  mariadb|mysql)
    MDB() { ${MARIADB:-mariadb} --default-character-set=utf8mb4 "$@"; }
    MDB -e "DROP DATABASE IF EXISTS \`$DB\`; DROP DATABASE IF EXISTS \`${DB}_ext\`;
            CREATE DATABASE \`$DB\` CHARACTER SET utf8mb4; CREATE DATABASE \`${DB}_ext\` CHARACTER SET utf8mb4;"
    sed "s/@EXT@/${DB}_ext/g" "$HERE/mariadb.sql" | MDB "$DB" >/dev/null ;;
  sqlite)
    python3 "$HERE/load_sqlite.py" "$DB" ;;
  *) echo "unknown dialect: $DIALECT (postgres, mariadb, sqlite)" >&2; exit 2 ;;
esac
