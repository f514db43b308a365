# File-system operations the guest runs on the share (cwd), one result line each. compare.sh runs this list on
# our back-end and on the C virtiofsd's and diffs the lines. Keep every line deterministic (no times, no inode
# numbers); add operations at the end.
r() { if out=$("$@" 2>&1); then echo "ok   $* ${out}"; else echo "FAIL $* $(echo "$out" | tail -1)"; fi; }
m() { echo "mode $1 $(stat -c '%F %a %u:%g %t:%T' "$1" 2>&1)"; }
umask 022
r mkdir d; m d
r mknod d/c c 1 3; m d/c
r mknod d/b b 7 0; m d/b
r mknod d/p p; m d/p
r mkdir d/c/x
r touch f; r chmod 04755 f; m f
r chmod 02755 d; m d
r mkdir d/inherit; m d/inherit
r chmod 06755 f; r sh -c 'echo x >> f'; m f
(umask 0; mkdir -m 0777 open-dir; touch open-file; mknod open-fifo p); m open-dir; m open-file; m open-fifo
r ln f hard; m hard
r ln -s f sym; r readlink sym
r mv f moved; r ls
r truncate -s 100 moved; m moved
r rm -r d
r rmdir open-dir
r ls
