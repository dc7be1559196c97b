#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# PostgreSQL as uid 10001 on a read-only root filesystem: data in $PGDATA (a volume), socket in /tmp.
# First start: initdb with the superuser password from POSTGRES_PASSWORD_FILE, then POSTGRES_DB if set.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
export PGDATA

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD_FILE:-}" ] || [ ! -r "$POSTGRES_PASSWORD_FILE" ]; then
        echo "postgres: $PGDATA holds no database and POSTGRES_PASSWORD_FILE (${POSTGRES_PASSWORD_FILE:-unset}) is not a readable file; mount the password as a secret and set POSTGRES_PASSWORD_FILE to its path" >&2
        exit 1
    fi
    case "$POSTGRES_USER${POSTGRES_DB:-}" in
        *[!a-z0-9_]*) echo "postgres: POSTGRES_USER and POSTGRES_DB may hold only a-z, 0-9 and _" >&2; exit 1 ;;
    esac
    initdb --username="$POSTGRES_USER" --pwfile="$POSTGRES_PASSWORD_FILE" --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C --no-instructions >/dev/null
    # Any address may connect (the stack's internal network decides who can), always with a password.
    echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
    echo "host all all ::/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
    if [ -n "${POSTGRES_DB:-}" ] && [ "$POSTGRES_DB" != postgres ]; then
        echo "CREATE DATABASE \"$POSTGRES_DB\";" | postgres --single -D "$PGDATA" -c unix_socket_directories=/tmp postgres >/dev/null
    fi
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp -c password_encryption=scram-sha-256 "$@"
