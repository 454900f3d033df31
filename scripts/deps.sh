#!/bin/sh
# deps.sh — make sure the Debian packages metasim builds against are present.
#
# metasim needs libyaml (scenario parsing) and GSL (distributions, statistics).
# When a header is missing we install the package if we can (root with apt-get);
# otherwise we print the exact command and stop, so a user never sees a wall of
# compiler errors instead of one clear line.
set -u
CC=${CC:-cc}
missing=""
have_header() {
    printf '#include <%s>\n' "$1" | "$CC" -E -x c - >/dev/null 2>&1
}
have_header yaml.h || missing="$missing libyaml-dev"
have_header gsl/gsl_rng.h || missing="$missing libgsl-dev"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "metasim: installing build dependencies:$missing" >&2
    if DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >&2 ||
       { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >&2; }; then
        exit 0
    fi
fi
echo "metasim: missing build dependencies. Install them with:" >&2
echo "    sudo apt-get install$missing" >&2
exit 1
