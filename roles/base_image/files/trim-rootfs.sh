#!/bin/sh
# Trim a debootstrap root filesystem before it becomes an image layer: what a layer holds,
# a later layer cannot make smaller. Usage: trim-rootfs.sh DIR EPOCH
set -eu
root=$1
epoch=$2
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
       "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
       "$root"/usr/share/lintian "$root"/usr/share/locale/* "$root"/var/log/* "$root"/tmp/* \
       "$root"/debootstrap
# iconv modules for legacy charsets (8 MB); UTF-8, ASCII and Latin-1 are built into glibc.
find "$root"/usr/lib/*/gconv -name '*.so' ! -name 'UTF-*' ! -name 'UNICODE.so' -delete 2>/dev/null || true
# No setuid/setgid programs: nothing in a container may gain privileges (CIS 4.8).
find "$root" -xdev -type f -perm /6000 -exec chmod a-s {} +
# The unprivileged user every image built on this one runs as.
grep -q '^app:' "$root/etc/group" || echo 'app:x:10001:' >> "$root/etc/group"
grep -q '^app:' "$root/etc/passwd" || echo 'app:x:10001:10001:app:/nonexistent:/usr/sbin/nologin' >> "$root/etc/passwd"
# Reproducible time stamps.
find "$root" -xdev -newermt "@$epoch" -exec touch --no-dereference --date "@$epoch" {} +
