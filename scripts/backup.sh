#!/usr/bin/env bash
# Back up the database named by DATABASE_URL: one pg_dump custom-format file
# (pg_dump -Fc), named <database>_<UTC time>.dump, in the directory given as
# the argument or in BACKUP_DIR. Prints the file's path and nothing else.
#
#   DATABASE_URL=postgres://user:password@host:5432/followup scripts/backup.sh /var/backups/followup
#
# Needs only the PostgreSQL client tools. The file holds patient data: it is
# created readable by its owner only (umask 077); encrypt it before it leaves
# the machine (docs/operations.md). Restore-test it with scripts/restore-check.sh.
#
# Exit status: 0 when the dump is written and readable; anything else means
# there is no new backup (the reason is on stderr and no partial file is left).
#
# scripts/restore-check.sh sources this file for pg_connection_from_url.
set -euo pipefail

die() {
  printf '%s: ERROR: %s\n' "$(basename "$0")" "$*" >&2
  exit 2
}

# Sets PG_URL (a libpq connection URI without the password, safe to show in
# `ps`), PG_URL_SERVER (scheme, user and host: a database name can follow) and
# PG_URL_QUERY ("?..." or empty); the password, if any, goes to PGPASSWORD.
pg_connection_from_url() {
  local url=${DATABASE_URL:-} rest authority tail userinfo="" user="" password="" hostport path
  [[ -n $url ]] || die "DATABASE_URL is not set. Backups are of the PostgreSQL database, e.g. postgres://user:password@host:5432/followup."
  case $url in
    postgres://* | postgresql://* | pgsql://* | postgis://*) ;;
    *) die "DATABASE_URL is not a PostgreSQL URL (it starts ${url%%:*}:, not postgres://)." ;;
  esac
  rest=${url#*://}
  authority=${rest%%[/?#]*}
  tail=${rest:${#authority}}
  hostport=$authority
  if [[ $authority == *@* ]]; then
    userinfo=${authority%@*}
    hostport=${authority##*@}
    user=${userinfo%%:*}
    [[ $userinfo == *:* ]] && password=${userinfo#*:}
  fi
  path=${tail%%[?#]*}
  PG_URL_QUERY=""
  [[ $tail == *\?* ]] && PG_URL_QUERY="?${tail#*\?}" && PG_URL_QUERY=${PG_URL_QUERY%%#*}
  [[ $PG_URL_QUERY == *dbname=* ]] && die "DATABASE_URL names its database in the query string (dbname=): put it in the path."
  PG_URL_SERVER="postgresql://${user:+$user@}${hostport}"
  PG_URL="${PG_URL_SERVER}${path}${PG_URL_QUERY}"
  if [[ -n $password ]]; then
    # Percent-decode (the URL form); backslashes are doubled first so %b leaves them alone.
    password=${password//\\/\\\\}
    printf -v PGPASSWORD '%b' "${password//%/\\x}"
    export PGPASSWORD
  fi
}

backup_main() {
  local dir=${1:-${BACKUP_DIR:-}} db name file partial
  [[ $# -le 1 ]] || die "usage: $(basename "$0") [DIRECTORY]  (or set BACKUP_DIR)"
  [[ -n $dir ]] || die "no backup directory: give it as the argument or set BACKUP_DIR."
  [[ -d $dir ]] || die "the backup directory $dir does not exist (is the backup disk mounted?)."
  [[ -w $dir ]] || die "cannot write to the backup directory $dir."
  command -v pg_dump >/dev/null || die "pg_dump is not installed (PostgreSQL client tools)."
  pg_connection_from_url
  umask 077

  db=$(psql -X -w -A -t -v ON_ERROR_STOP=1 -d "$PG_URL" -c 'SELECT current_database()') ||
    die "cannot connect to the database in DATABASE_URL (see the message above)."
  name="${db//[^A-Za-z0-9_.-]/_}_$(date -u +%Y%m%dT%H%M%SZ).dump"
  file="${dir%/}/$name"
  [[ ! -e $file ]] || die "$file already exists; not overwriting it."
  partial="$file.partial"
  # A dump that fails halfway must not look like a backup.
  trap "rm -f $(printf '%q' "$partial")" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  pg_dump -w --format=custom --file="$partial" --dbname="$PG_URL" ||
    die "pg_dump failed: no backup written (see the message above)."
  pg_restore --list "$partial" >/dev/null ||
    die "pg_restore cannot read the dump pg_dump just wrote: no backup written."
  mv "$partial" "$file"
  trap - EXIT
  printf '%s\n' "$file"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  backup_main "$@"
fi
