#!/usr/bin/env bash
# run.sh - the browser tests (ctest browser/pages): installs playwright-core
# from package-lock.json into the build folder (npm ci; skipped when that
# exact version is there already), then runs the demo's flow headless
# (deploy/demo.sh --headless) and, once its dataset is done, pages.test.mjs
# against it in Debian's headless Chromium.  Screenshots go to ARTIFACTS.
#
# Usage: run.sh BINDIR ARTIFACTS
# Exit 77 (ctest: skipped) only when no Chromium or Node.js is installed
# (deploy/install-deps.sh installs both).
set -euo pipefail
BINDIR=$(cd "${1:?usage: $0 BINDIR ARTIFACTS}" && pwd)
ART=${2:?usage: $0 BINDIR ARTIFACTS}
HERE=$(cd "$(dirname "$0")" && pwd)

chromium=${OZ_CHROMIUM:-}
for c in /usr/lib/chromium/chromium /usr/bin/chromium /usr/bin/chromium-browser; do
  [[ -z $chromium && -x $c ]] && chromium=$c
done
if [[ -z $chromium ]]; then
  echo "SKIP: no Chromium (apt-get install chromium, or deploy/install-deps.sh)"
  exit 77
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "SKIP: no Node.js/npm (apt-get install nodejs npm, or deploy/install-deps.sh)"
  exit 77
fi

# playwright-core, pinned by package-lock.json, in the build folder (not the
# source tree).  npm ci only when the installed copy is not that version.
mkdir -p "$ART"
ART=$(cd "$ART" && pwd)
nodedir=$(dirname "$ART")/browser-node
want=$(node -e 'console.log(require(process.argv[1]).packages["node_modules/playwright-core"].version)' \
       "$HERE/package-lock.json")
have=$(node -e 'try { console.log(require(process.argv[1]).version) } catch (e) { console.log("none") }' \
       "$nodedir/node_modules/playwright-core/package.json")
if [[ $have != "$want" ]]; then
  mkdir -p "$nodedir"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$nodedir/"
  if ! npm ci --prefix "$nodedir" --no-audit --no-fund --loglevel=error >"$nodedir/npm.log" 2>&1; then
    cat "$nodedir/npm.log" >&2
    echo "FAIL: npm ci (playwright-core $want) failed; is the npm registry reachable?" >&2
    exit 1
  fi
fi

export OZ_CHROMIUM=$chromium OZ_ARTIFACTS=$ART OZ_NODE_MODULES=$nodedir/node_modules
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
rc=0
"$HERE/../../deploy/demo.sh" --headless --bin "$BINDIR" --port 0 --samples 163840 --chirp-max 5 \
  --timeout 120 --dir "$WORK/demo" --then "node '$HERE/pages.test.mjs'" >"$WORK/out" 2>&1 || rc=$?
grep -E '^(ok|FAIL|SKIP|screenshots)' "$WORK/out" || true
if [[ $rc -ne 0 ]]; then
  cat "$WORK/out" >&2
  echo "--- server.log" >&2
  tail -30 "$WORK/demo/server.log" >&2 || true
  echo "FAIL: browser tests (exit $rc)" >&2
  exit 1
fi
echo "all browser checks passed; screenshots in $ART"
