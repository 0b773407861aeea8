#!/usr/bin/env bash
# The reference platform starts private PostgreSQL and Redis servers from their binaries.
# Install them from Debian's packages when they are missing (CI and fresh machines run as root);
# on a laptop, say what to install instead.
set -euo pipefail

need=()
if ! command -v redis-server >/dev/null 2>&1; then need+=(redis-server); fi
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then need+=(postgresql); fi
# Debian's nginx: the self-test that runs the whole suite behind a TLS-terminating reverse proxy
# (selftest/runs/nginx.test.ts) starts it in a temp dir (it is in /usr/sbin, off a user's PATH).
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then need+=(nginx); fi
# Debian's chromium at /usr/bin/chromium: the self-test that opens reports/index.html drives it
# with playwright-core (the suite itself never needs a browser, so its absence is only a warning;
# STAGECHECK_SKIP_BROWSER=1 skips it, e.g. on CI runners that only run the suite).
if [ ! -x /usr/bin/chromium ] && [ -z "${STAGECHECK_SKIP_BROWSER:-}" ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then need+=(chromium)
  else echo "note: /usr/bin/chromium is missing; the report self-test needs it (apt-get install chromium)" >&2; fi
fi
# Graphviz's `dot` draws docs/architecture.svg (npm run deps:graph). The check itself (npm run deps,
# part of npm test) does not need it, so off root its absence is only a note.
if ! command -v dot >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then need+=(graphviz)
  else echo "note: Graphviz 'dot' is missing; npm run deps:graph needs it (apt-get install graphviz)" >&2; fi
fi
if [ "${#need[@]}" -eq 0 ]; then exit 0; fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${need[*]} (needed by the reference platform, the nginx and report self-tests and the architecture graph)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "the reference platform and its self-tests need: ${need[*]}. Install them (apt-get install ${need[*]}, or brew install postgresql@15 redis) and run again." >&2
  exit 1
fi
