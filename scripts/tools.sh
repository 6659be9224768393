# The servers and browser the full test run needs beyond Python, where it
# looks for them and the Debian packages that bring them. Sourced by
# scripts/test.sh (which says what it found, and under CI=true refuses to
# run without one) and .ci/run (which installs what is missing), so both
# read one list. A new one is a function here and a line in missing_packages.
#
# TEST_TOOLS_ROOT, empty unless tests/test_ci_scripts.py points it at a
# folder, is put before the fixed paths to show a machine without them.

tools_root="${TEST_TOOLS_ROOT:-}"

# The newest PostgreSQL server binaries (Debian: /usr/lib/postgresql/15/bin).
find_pg_bin() {
  local dir
  dir=$(ls -d "$tools_root"/usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; fi
}

# tests/browser/conftest.py drives this one and no other (never a download).
find_chromium() {
  if [ -x "$tools_root/usr/bin/chromium" ]; then echo "$tools_root/usr/bin/chromium"; fi
}

# The TLS proxy of the HTTPS journeys (tests/browser/proxy.py); nginx lives
# in /usr/sbin, which is not on every user's PATH.
find_nginx() {
  PATH="$PATH:$tools_root/usr/sbin" command -v nginx || true
}

in_ci() {
  [ "$(printf '%s' "${CI:-}" | tr '[:upper:]' '[:lower:]')" = true ]
}

# The shared store of the login rate limit across workers (tests start
# their own on a loopback port; the package's service is kept from starting).
find_redis() {
  if [ -x "$tools_root/usr/bin/redis-server" ]; then echo "$tools_root/usr/bin/redis-server"; fi
}

# The center's mailbox in tests: Dovecot's IMAP server with LMTP delivery.
find_dovecot() {
  local dovecot="$tools_root/usr/sbin/dovecot"
  if [ -x "$dovecot" ] && [ -x "$tools_root/usr/lib/dovecot/imap" ] \
    && [ -x "$tools_root/usr/lib/dovecot/lmtp" ]; then
    echo "$dovecot"
  fi
}

# Without Korean fonts the journeys still run, but the screenshots show boxes.
find_korean_font() {
  local font="$tools_root/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
  if [ -f "$font" ]; then echo "$font"; fi
}

# Debian packages of what is missing, one a line.
missing_packages() {
  [ -n "$(find_pg_bin)" ] || echo postgresql
  [ -n "$(find_chromium)" ] || echo chromium
  [ -n "$(find_korean_font)" ] || echo fonts-noto-cjk
  [ -n "$(find_nginx)" ] || echo nginx
  [ -n "$(find_redis)" ] || echo redis-server
  [ -n "$(find_dovecot)" ] || echo dovecot-imapd dovecot-lmtpd
}
