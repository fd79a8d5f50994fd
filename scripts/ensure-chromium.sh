#!/usr/bin/env bash
# Makes sure the Debian packages the tests drive are present: Chromium for the browser tests (Playwright
# never downloads a browser here) and DejaVu fonts (they carry the ₹ glyph the invoice PDFs use).
# Installs them with apt when we are root. Otherwise prints why it could not; with CI=true that is an error.
set -euo pipefail

PACKAGES=(chromium fonts-dejavu-core)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[[ -x /usr/bin/chromium ]] || [[ " ${missing[*]} " == *" chromium "* ]] || missing+=(chromium)
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

fail() {
  echo "ensure-chromium: $1" >&2
  if [[ "${CI:-}" == "true" ]]; then
    echo "ensure-chromium: CI=true, so this is an error" >&2
    exit 1
  fi
  echo "ensure-chromium: browser tests will be skipped (and PDF glyph checks may be)" >&2
  exit 0
}

command -v apt-get >/dev/null || fail "no apt-get; install ${missing[*]} yourself (Chromium at /usr/bin/chromium)"
[[ "$(id -u)" -eq 0 ]] || fail "missing ${missing[*]}; not root, so run: sudo apt-get install -y ${missing[*]}"

echo "== installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq "${missing[@]}" </dev/null; }; then
  fail "apt-get install ${missing[*]} failed"
fi
[[ -x /usr/bin/chromium ]] || fail "apt-get finished but /usr/bin/chromium is missing"
