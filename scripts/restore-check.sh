#!/usr/bin/env bash
# The tested restore: restore a backup into a scratch database and check that
# every table of schema public has exactly the rows of the source database.
#
#   scripts/restore-check.sh                  # dump DATABASE_URL now, then check that dump
#   scripts/restore-check.sh FILE.dump        # check a dump from scripts/backup.sh
#
# Without a file the dump and the source counts are taken from one snapshot, so
# the check is exact even while the service is in use. With a file the source is
# counted as it is now: any write since the dump (a login, an export) shows as a
# difference, so give a file only when nothing has written since it was made.
#
# The scratch database (restore_check_<time>_<pid>) is created with createdb on
# the server of DATABASE_URL (its user needs CREATEDB) and dropped at the end,
# also on failure. Needs only the PostgreSQL client tools.
#
# Exit status: 0 every table restored with the same row count; 1 a count
# differs or a table is missing (listed); 2 the check could not run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/backup.sh
source "$here/backup.sh" # pg_connection_from_url, die

[[ $# -le 1 ]] || die "usage: $(basename "$0") [DUMP_FILE]"
for tool in psql pg_dump pg_restore createdb dropdb; do
  command -v "$tool" >/dev/null || die "$tool is not installed (PostgreSQL client tools)."
done
pg_connection_from_url
umask 077

dump=${1:-}
work="" scratch="" scratch_made="" snap_pid=""

cleanup() {
  local rc=$?
  if [[ -n $snap_pid ]]; then
    kill "$snap_pid" 2>/dev/null || true
    wait "$snap_pid" 2>/dev/null || true
  fi
  if [[ -n $scratch_made ]]; then
    if ! dropdb -w --if-exists --maintenance-db="$PG_URL" "$scratch"; then
      printf 'restore-check: WARNING: could not drop the scratch database %s: drop it by hand (it holds patient data).\n' \
        "$scratch" >&2
      [[ $rc -ne 0 ]] || rc=2
    fi
  fi
  [[ -z $work ]] || rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

psql_source() { psql -X -w -q -A -t -v ON_ERROR_STOP=1 "$@"; }

# "table<TAB>rows" for every base table in schema public, sorted by name.
# $1: connection URI; $2: optional exported snapshot to count in.
count_rows() {
  local snapshot_sql=""
  [[ -z ${2:-} ]] || snapshot_sql="SET TRANSACTION SNAPSHOT '$2';"
  psql_source -F $'\t' -d "$1" <<SQL | LC_ALL=C sort
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
$snapshot_sql
SELECT format('SELECT %L, count(*) FROM public.%I', table_name, table_name)
  FROM information_schema.tables
 WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
 ORDER BY table_name
\gexec
COMMIT;
SQL
}

source_info=$(psql_source -F $'\t' -d "$PG_URL" -c "SELECT current_database(), current_setting('server_version')") ||
  die "cannot connect to the database in DATABASE_URL (see the message above)."
source_db=${source_info%%$'\t'*} server_version=${source_info#*$'\t'}
server_version=${server_version%% *} # "15.20 (Debian 15.20-0+deb12u1)": the number is enough
work=$(mktemp -d "${TMPDIR:-/tmp}/restore-check.XXXXXX")
started=$SECONDS

if [[ -z $dump ]]; then
  # Hold a transaction open and export its snapshot: pg_dump and the source
  # counts then both see the database exactly as it was at this moment.
  coproc SNAPSHOT { exec psql -X -w -q -A -t -v ON_ERROR_STOP=1 -d "$PG_URL"; }
  snap_pid=$SNAPSHOT_PID
  exec {snap_in}>&"${SNAPSHOT[1]}" {snap_out}<&"${SNAPSHOT[0]}"
  printf '%s\n' 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;' 'SELECT pg_export_snapshot();' >&"$snap_in"
  snapshot=""
  read -r -t 60 snapshot <&"$snap_out" || true
  [[ $snapshot =~ ^[0-9A-F-]+$ ]] || die "could not export a snapshot from the source database."
  dump="$work/$source_db.dump"
  printf 'restore-check: dumping %s (PostgreSQL %s) with pg_dump -Fc\n' "$source_db" "$server_version"
  pg_dump -w --format=custom --snapshot="$snapshot" --file="$dump" --dbname="$PG_URL" ||
    die "pg_dump failed (see the message above)."
  count_rows "$PG_URL" "$snapshot" >"$work/source.tsv" || die "could not count the rows of the source database."
  printf 'COMMIT;\n\\q\n' >&"$snap_in"
  exec {snap_in}>&- {snap_out}<&-
  wait "$snap_pid" || die "the snapshot session of the source database failed."
  snap_pid=""
  printf 'restore-check: dump taken in %s s; source counted in the same snapshot\n' $((SECONDS - started))
else
  [[ -f $dump && -r $dump ]] || die "cannot read the dump file $dump."
  header=$(pg_restore --list "$dump" 2>&1) || die "$dump is not a pg_dump custom-format file: ${header%%$'\n'*}"
  dump_db=$(sed -n 's/^;[[:space:]]*[Dd]bname: //p' <<<"$header")
  dump_at=$(sed -n 's/^;[[:space:]]*Archive created at //p' <<<"$header")
  printf 'restore-check: dump %s (of database %s, made %s)\n' "$dump" "$dump_db" "$dump_at"
  printf 'restore-check: source %s (PostgreSQL %s) counted now: writes since the dump show as differences\n' \
    "$source_db" "$server_version"
  if [[ $dump_db != "$source_db" ]]; then
    printf 'restore-check: note: the dump is of database %s, compared here with %s\n' "$dump_db" "$source_db"
  fi
  count_rows "$PG_URL" >"$work/source.tsv" || die "could not count the rows of the source database."
fi
[[ -s $work/source.tsv ]] || die "the source database has no tables in schema public: nothing to check."

# The scratch database copies the source's encoding and locale, from template0 (no local additions).
scratch="restore_check_$(date -u +%Y%m%d%H%M%S)_$$_${RANDOM}"
locale=$(psql_source -F $'\t' -d "$PG_URL" -c \
  "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database WHERE datname = current_database()") ||
  die "could not read the source database's encoding."
IFS=$'\t' read -r encoding collate ctype <<<"$locale"
createdb -w --maintenance-db="$PG_URL" --template=template0 --encoding="$encoding" \
  --lc-collate="$collate" --lc-ctype="$ctype" "$scratch" ||
  die "createdb failed: the user in DATABASE_URL needs the CREATEDB privilege (see the message above)."
scratch_made=1
printf 'restore-check: restoring into scratch database %s with pg_restore --no-owner\n' "$scratch"
restore_started=$SECONDS
pg_restore -w --no-owner --exit-on-error --dbname="$PG_URL_SERVER/$scratch$PG_URL_QUERY" "$dump" ||
  die "pg_restore failed: this dump does not restore (see the message above)."
printf 'restore-check: restored in %s s\n' $((SECONDS - restore_started))
count_rows "$PG_URL_SERVER/$scratch$PG_URL_QUERY" >"$work/restored.tsv" ||
  die "could not count the rows of the restored copy."

printf '\n%-44s %14s %14s  %s\n' "table" "source rows" "restored rows" "result"
tables=0 rows=0 bad=()
while IFS=$'\t' read -r table source_rows restored_rows; do
  tables=$((tables + 1))
  if [[ $source_rows == - ]]; then
    result="NOT IN SOURCE"
  elif [[ $restored_rows == - ]]; then
    result="MISSING"
  elif [[ $source_rows != "$restored_rows" ]]; then
    result="DIFFERS"
  else
    result="ok"
    rows=$((rows + source_rows))
  fi
  [[ $result == ok ]] || bad+=("$table")
  printf '%-44s %14s %14s  %s\n' "$table" "$source_rows" "$restored_rows" "$result"
done < <(LC_ALL=C join -t $'\t' -a 1 -a 2 -e - -o 0,1.2,2.2 "$work/source.tsv" "$work/restored.tsv")
echo

if [[ ${#bad[@]} -gt 0 ]]; then
  printf 'restore-check: FAILED: %d of %d tables differ or are missing: %s\n' "${#bad[@]}" "$tables" "${bad[*]}"
  exit 1
fi
printf 'restore-check: OK: %d tables, %d rows, every count matches (%s s in all)\n' "$tables" "$rows" \
  $((SECONDS - started))
