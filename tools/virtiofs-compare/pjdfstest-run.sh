# Runs pjdfstest in the guest on the share (the folder of this script): every tests/*/*.t of the copy in ./pjd, each
# from a fresh directory ./work; one line per test file ("FILE name planned ran failed") and one line per failed
# test ("name: not ok ..."). compare.sh --pjdfstest copies this script and the static pjdfstest build onto each
# back-end's share.
share=$(cd "$(dirname "$0")" && pwd)
[ -d "$share/pjd/tests" ] || { echo "FAIL no pjdfstest in $share/pjd"; exit 2; }

# pjdfstest makes its random names with `openssl md5`; the guest's busybox has md5sum instead.
mkdir -p /tmp/pjd-bin
printf '#!/bin/sh\nmd5sum | cut -d" " -f1\n' >/tmp/pjd-bin/openssl
chmod +x /tmp/pjd-bin/openssl
PATH=/tmp/pjd-bin:$PATH
export PATH

# pjd/only, when compare.sh wrote it, names the test directories to run, in that order.
if [ -f "$share/pjd/only" ]; then
    tests=$(for d in $(cat "$share/pjd/only"); do ls "$share/pjd/tests/$d"/*.t; done)
else
    tests=$(ls "$share"/pjd/tests/*/*.t)
fi
for t in $tests; do
    name=${t#"$share"/pjd/tests/}
    # A test that left files behind must not change the next one's results.
    rm -rf "$share/work" && mkdir "$share/work" && cd "$share/work" || exit 2
    out=$(sh "$t" 2>&1)
    planned=$(echo "$out" | sed -n 's/^1\.\.\([0-9]*\).*/\1/p' | head -1)
    ran=$(echo "$out" | grep -c -E '^(not )?ok ')
    failed=$(echo "$out" | grep -c '^not ok ')
    echo "$out" | grep '^not ok ' | sed "s|^|$name: |"
    echo "FILE $name ${planned:-0} $ran $failed"
done
cd "$share" && rm -rf "$share/work"
