#!/bin/sh
# Builds one execution environment's file system and starts its runtime in it. Runs as PID 1 of
# fresh mount and PID namespaces (`unshare --mount --pid --fork`, mounts private), so nothing done
# here is seen outside, and everything in it ends with it.
#
#   sandbox.sh <skeleton> <code dir> <runtime dir> <node binary> <tmp MB> <uid:gid> <command...>
#
# <skeleton> is the read-only root (fleet.js makes it: /etc, a few basic binaries, empty mount
# points). On it: the code read-only at /var/task, the runtime read-only at /var/runtime, node at
# /var/lang/bin/node, the host's shared libraries read-only, a private tmpfs /tmp of <tmp MB>, a
# minimal /dev and this namespace's /proc. Nothing else of the host (its /tmp, /work, /usr/bin,
# /root) is inside. The command runs from /var/task as <uid:gid> with the environment as given.
set -eu
skeleton=$1 code=$2 runtime=$3 node=$4 tmp_mb=$5 user=$6
shift 6
# the host's tools for the set-up; the runtime gets the PATH it was given
lambda_path=$PATH
PATH=/usr/sbin:/usr/bin:/sbin:/bin
chroot=$(command -v chroot)

bind_ro() { mount --bind -o ro "$1" "$skeleton$2"; }

mount --bind -o ro "$skeleton" "$skeleton"
bind_ro "$code" /var/task
bind_ro "$runtime" /var/runtime
bind_ro "$node" /var/lang/bin/node
bind_ro /usr/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu
bind_ro /usr/share/zoneinfo /usr/share/zoneinfo
mount -t tmpfs -o "size=${tmp_mb}m,mode=1777,nosuid,nodev" jrl-tmp "$skeleton/tmp"
mount -t tmpfs -o size=64k,mode=0755,nosuid jrl-dev "$skeleton/dev"
for device in null zero full random urandom; do
  touch "$skeleton/dev/$device"
  mount --bind "/dev/$device" "$skeleton/dev/$device"
done
ln -s /proc/self/fd "$skeleton/dev/fd"
ln -s /proc/self/fd/0 "$skeleton/dev/stdin"
ln -s /proc/self/fd/1 "$skeleton/dev/stdout"
ln -s /proc/self/fd/2 "$skeleton/dev/stderr"
mount -o remount,ro,bind "$skeleton/dev"
mount -t proc -o nosuid,nodev,noexec proc "$skeleton/proc"

PATH=$lambda_path
PWD=/var/task
# setpriv drops to the runtime's user, then asks for SIGKILL when unshare (outside) dies: a change
# of user clears that request, so it is made after. The runtime is PID 1 here: when it dies, so
# does everything else in the namespace.
exec "$chroot" "$skeleton" /usr/libexec/jrl-fleet/setpriv --reuid="${user%:*}" --regid="${user#*:}" --clear-groups --pdeathsig SIGKILL -- /usr/bin/env -C /var/task "$@"
