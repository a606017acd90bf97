#!/usr/bin/env bash
# Make a Chromium available to the browser tests (tests/e2e).
#
# Why Debian's package: Playwright's own browser download cannot be fetched on the project's
# machines, so the tests drive the system Chromium at /usr/bin/chromium (or the path in
# IMPORT_EXPORT_CHROMIUM). Running this twice does nothing the second time.
#
# It never fails the caller: without apt-get, root or the package, it says why and exits 0, and
# the browser tests then skip with a message naming the missing browser.
set -u

browser="${IMPORT_EXPORT_CHROMIUM:-/usr/bin/chromium}"

say() {
    echo "install_browser: $*"
}

if [ -x "$browser" ]; then
    say "Chromium already present at $browser; nothing to do."
    exit 0
fi

if [ "$browser" != "/usr/bin/chromium" ]; then
    say "IMPORT_EXPORT_CHROMIUM=$browser is not an executable file; the browser tests will skip."
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    say "no apt-get on this machine; cannot install Chromium, the browser tests will skip."
    exit 0
fi

sudo_cmd=()
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo_cmd=(sudo -n)
    else
        say "not root and no password-less sudo; cannot install Chromium, the browser tests will skip."
        exit 0
    fi
fi

say "Chromium missing; running apt-get update and apt-get install chromium."
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo_cmd[@]}" apt-get update -qq; then
    say "apt-get update failed; the browser tests will skip."
    exit 0
fi
if ! "${sudo_cmd[@]}" apt-get install -y -qq chromium >/dev/null; then
    say "apt-get install chromium failed; the browser tests will skip."
    exit 0
fi

if [ -x "$browser" ]; then
    say "installed $("$browser" --version 2>/dev/null || echo chromium) at $browser."
else
    say "apt-get finished but $browser is still missing; the browser tests will skip."
fi
exit 0
