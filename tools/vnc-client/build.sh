#!/usr/bin/env bash
# Builds tools/vnc-client/vnc-type (a LibVNCClient test client) into <repo>/.cache/vnc-client/, only when the
# source changed. Prints the binary's path. Exit 3 with the reason on stderr when gcc or libvncclient
# (Debian: libvncserver-dev) is missing, so tests can skip.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=$repo/.cache/vnc-client
command -v gcc >/dev/null || { echo "gcc is not installed (tools/install-deps.sh)" >&2; exit 3; }
[[ -f /usr/include/rfb/rfbclient.h ]] \
    || { echo "libvncclient headers are missing (apt-get install libvncserver-dev; tools/install-deps.sh)" >&2; exit 3; }
mkdir -p "$out"
if [[ ! -x $out/vnc-type || $here/vnc-type.c -nt $out/vnc-type ]]; then
    gcc -O2 -Wall -Wextra -Werror -o "$out/vnc-type.tmp" "$here/vnc-type.c" -lvncclient
    mv -f "$out/vnc-type.tmp" "$out/vnc-type"
fi
echo "$out/vnc-type"
