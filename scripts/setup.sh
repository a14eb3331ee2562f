#!/usr/bin/env bash
# Every set-up step the dev stack, the services and the tests need, on a fresh Debian 12 machine with
# the .NET SDK: fetch the ClickHouse engine (chDB) from npm, checksum-verified, into the user's cache,
# then restore and build the solution. Safe to re-run: cached steps are skipped.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
configuration="${CONFIGURATION:-Debug}"

# The engine: @chdb/lib-linux-x64-gnu ships libchdb.so (ClickHouse 26.7 as a library, Apache-2.0).
engine_package="@chdb/lib-linux-x64-gnu"
engine_version="26.7.3-stable.1"
engine_sha256="c0d32b129e988f2b9a9a31c9141aecf5e1e2453f9a079efc4d36ab8e3f92b2ad"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/insights"
engine_dir="$cache/chdb/$engine_version"
engine="$engine_dir/libchdb.so"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

command -v dotnet >/dev/null || die "the .NET SDK is missing: install dotnet-sdk-10.0 (https://learn.microsoft.com/dotnet/core/install/linux-debian)"

fetch_engine() {
  if [[ -f "$engine" ]]; then
    return
  fi
  command -v npm >/dev/null || die "npm is needed to fetch the ClickHouse engine: apt-get install -y nodejs npm"
  say "Fetching the ClickHouse engine ($engine_package@$engine_version, ~170 MB, once)"
  local tmp tarball url
  tmp="$(mktemp -d)"
  url="$(npm view "$engine_package@$engine_version" dist.tarball 2>/dev/null || true)"
  tarball="$tmp/engine.tgz"
  if [[ -n "$url" ]] && command -v curl >/dev/null; then
    curl -fL --retry 3 --progress-bar -o "$tarball" "$url"  # the registry's own tarball address, with a progress bar
  else
    (cd "$tmp" && npm pack --silent "$engine_package@$engine_version" >/dev/null && mv ./*.tgz "$tarball")
  fi
  echo "$engine_sha256  $tarball" | sha256sum --check --quiet - \
    || die "the engine download does not match its checksum; delete $cache and re-run"
  mkdir -p "$engine_dir"
  tar -xzf "$tarball" -C "$tmp" package/libchdb.so
  mv "$tmp/package/libchdb.so" "$engine.partial"
  mv "$engine.partial" "$engine"  # atomic: an interrupted setup never leaves a half-written engine
  rm -rf "$tmp"
  say "Engine cached at $engine"
}

# Headless Chromium for the browser tests (Debian's package; Playwright drives it by path, never downloads one).
install_chromium() {
  command -v chromium >/dev/null && return
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    say "Chromium is missing: install Debian's chromium package for the browser tests (apt-get install -y chromium)"
    return
  fi
  say "Installing Chromium for the browser tests (Debian package)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
}

# PostgreSQL for the control plane's tests on its second provider (Debian's package; the tests start a private server
# from its initdb/pg_ctl in a temporary folder, so no system service is started or configured here).
install_postgresql() {
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && return
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    say "PostgreSQL is missing: install Debian's postgresql package for the control-plane tests (apt-get install -y postgresql)"
    return
  fi
  say "Installing PostgreSQL for the control-plane tests (Debian package)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
}

# The real Segment-compatible SDKs the ingest and end-to-end tests drive (@segment/analytics-node and
# @rudderstack/rudder-sdk-node, ingest/Insights.Ingest.Tests/TestData/Segment): the versions and sha512 checksums pinned by
# its package-lock.json, installed with `npm ci` (which verifies them) into the cache, never into the repository. The
# folder is named by the lock file's hash, so a changed lock installs afresh and the tests find it the same way.
install_segment_sdks() {
  local manifest="$repo/ingest/Insights.Ingest.Tests/TestData/Segment"
  local lock dir
  lock="$(sha256sum "$manifest/package-lock.json" | cut -c1-12)"
  dir="$cache/npm/segment-sdks@$lock"
  if [[ -f "$dir/node_modules/@segment/analytics-node/package.json" && -f "$dir/node_modules/@rudderstack/rudder-sdk-node/package.json" ]]; then
    return
  fi
  command -v npm >/dev/null || die "npm is needed for the Segment-compatible SDKs the tests run: apt-get install -y nodejs npm"
  say "Installing @segment/analytics-node and @rudderstack/rudder-sdk-node for the tests (once)"
  rm -rf "$dir.partial" && mkdir -p "$dir.partial"
  cp "$manifest/package.json" "$manifest/package-lock.json" "$dir.partial/"
  (cd "$dir.partial" && npm ci --ignore-scripts --no-audit --no-fund --silent)
  rm -rf "$dir" && mv "$dir.partial" "$dir"
  say "Cached at $dir"
}

fetch_engine
install_chromium
install_postgresql
install_segment_sdks
export INSIGHTS_CHDB_LIBRARY="$engine"
bash "$repo/scripts/fetch-ipdata.sh"  # open IP data for enrichment (crawler patterns, ASN, city)
bash "$repo/deploy/lint/fetch-linters.sh" >/dev/null  # JSON schemas the deployment-file lint validates against (npm, pinned)

if [[ "${INSIGHTS_SKIP_BUILD:-}" == 1 ]]; then
  say "Skipping the build (INSIGHTS_SKIP_BUILD=1)"
else
  say "Restoring and building ($configuration)"
  dotnet build "$repo/Insights.sln" -c "$configuration" -nologo -clp:NoSummary -v:q
fi
