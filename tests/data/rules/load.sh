#!/usr/bin/env bash
# Build the rules database (issue 17) of one dialect from build.py (seeded: the same rows in each dialect).
# usage: load.sh postgres DBNAME | load.sh mariadb DBNAME | load.sh sqlite FILE
#   postgres: DBNAME is dropped and recreated. Connection: libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD).
#   mariadb:  DBNAME is dropped and recreated. Connection: MARIADB (default "mariadb"; add -h/-u/-p flags there).
#   sqlite:   FILE is replaced.
# build.py needs numpy and pandas: PYTHON (default python3) is the interpreter that has them.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DIALECT=${1:?usage: $0 postgres|mariadb|sqlite DBNAME|FILE}; DB=${2:?usage: $0 postgres|mariadb|sqlite DBNAME|FILE}
PY=${PYTHON:-python3}
case "$DIALECT" in
  postgres|postgresql)
    dropdb --if-exists "$DB" && createdb "$DB"
    "$PY" "$HERE/build.py" postgres | psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null ;;
  mariadb|mysql)
    MDB() { ${MARIADB:-mariadb} --default-character-set=utf8mb4 "$@"; }
    MDB -e "DROP DATABASE IF EXISTS \`$DB\`; CREATE DATABASE \`$DB\` CHARACTER SET utf8mb4;"
    "$PY" "$HERE/build.py" mariadb | MDB "$DB" >/dev/null ;;
  sqlite)
    "$PY" "$HERE/build.py" sqlite "$DB" ;;
  *) echo "unknown dialect: $DIALECT (postgres, mariadb, sqlite)" >&2; exit 2 ;;
esac
