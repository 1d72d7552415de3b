#!/usr/bin/env bash
# The install, tried on arm64: deploy/install.sh in a Debian 12 (Bookworm) arm64 root built
# with debootstrap and run under qemu-user-static, as close to Raspberry Pi OS Bookworm as
# can be had without a Pi. No compiler is installed in it, so anything pip would compile
# fails the run.
#
#   sudo deploy/test-arm64.sh          build the root, install, run the checks, remove the root
#   KEEP=1 sudo deploy/test-arm64.sh   ...and keep the root (its path is printed)
#   MIRROR=URL                         the Debian mirror (default: this machine's own apt mirror)
#   ROOT_CACHE=FILE.tar                reuse the debootstrapped root saved there (made if absent)
#
# Slow (a quarter of an hour or more under emulation), so it is not part of `make test` or
# of every CI run. Needs root, debootstrap and qemu-user-static (installed with apt-get if
# missing), binfmt_misc (registered for aarch64 if it is not), a Debian mirror and PyPI.
#
# After the install it runs what a school would: `kiosk --version` (the /usr/local/bin
# wrapper), a demo seed and `kiosk status`, and every installed unit's ExecStart command,
# as the unit's user, in its working directory, with its Environment= lines. Exit 0 only
# when every step passed; each step's time is printed.
# shellcheck disable=SC2317  # the step functions are called through step()
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SUITE=bookworm
KEEP="${KEEP:-0}"
MIRROR="${MIRROR:-}"

say() { printf '%s\n' "$*"; }
die() { printf 'test-arm64.sh: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run it as root: sudo $0"

STEPS=()
FAILED=0
T0=$SECONDS
step() {  # step NAME COMMAND...: run it, time it, remember the outcome
    local name="$1" start=$SECONDS rc=0
    shift
    say ""
    say "=== $name"
    "$@" || rc=$?
    local took=$((SECONDS - start))
    if [ "$rc" = 0 ]; then
        STEPS+=("ok    ${took}s  $name")
    else
        STEPS+=("FAIL  ${took}s  $name (exit $rc)")
        FAILED=1
    fi
    return 0
}

summary() {
    say ""
    say "=== summary ($((SECONDS - T0)) s in all)"
    printf '%s\n' "${STEPS[@]}"
}

# --- the host: tools, binfmt_misc, mirror ---------------------------------------------------

need_tools() {
    local missing=()
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    [ -x /usr/libexec/qemu-binfmt/aarch64-binfmt-P ] || [ -x /usr/bin/qemu-aarch64-static ] \
        || missing+=(qemu-user-static)
    if ((${#missing[@]})); then
        command -v apt-get >/dev/null || die "install ${missing[*]} first"
        say "Installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

binfmt() {
    local dir=/proc/sys/fs/binfmt_misc
    if [ ! -e "$dir/register" ]; then
        mount -t binfmt_misc binfmt_misc "$dir" \
            || die "cannot mount binfmt_misc on $dir (a container without that privilege?)"
    fi
    if [ ! -e "$dir/qemu-aarch64" ]; then
        local conf=/usr/lib/binfmt.d/qemu-aarch64.conf
        [ -f "$conf" ] || die "no $conf: is qemu-user-static installed?"
        grep -v '^#' "$conf" > "$dir/register" \
            || die "cannot register qemu-aarch64 with binfmt_misc (writing $dir/register failed)"
    fi
    grep -q '^enabled' "$dir/qemu-aarch64" || die "binfmt_misc has qemu-aarch64 but it is disabled"
    # F (fix binary): the kernel holds the interpreter open, so it works inside the chroot.
    grep -q '^flags: .*F' "$dir/qemu-aarch64" \
        || die "qemu-aarch64 is registered without the F flag: it would not run inside a chroot"
    say "binfmt_misc: $(sed -n 's/^interpreter //p' "$dir/qemu-aarch64") runs aarch64 programs"
}

host_mirror() {  # the Debian mirror this machine's apt uses for $SUITE (deb822 or one-line)
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v suite="$SUITE" '
            /^URIs:/ { uri = $2 }
            /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
            /^$/ { if (ok && uri) { print uri; exit } ok = 0; uri = "" }
            END { if (ok && uri) print uri }' "$f"
    done | head -n1
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2; exit }' "$f"
    done | head -n1
}

# --- the arm64 root -----------------------------------------------------------------------

WORK=""
ROOTFS=""
MOUNTS=()
cleanup() {
    local i
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTS[$i]}" 2>/dev/null || true; done
    [ -n "$WORK" ] || return 0
    if [ "$KEEP" = 1 ]; then say "Kept the arm64 root in $ROOTFS"; return 0; fi
    # Never delete through a mount that is still there (/dev is bound into the root).
    if grep -q " $ROOTFS/" /proc/mounts; then
        say "Left $WORK in place: something is still mounted inside it"
        return 0
    fi
    rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

build_root() {
    if [ -n "${ROOT_CACHE:-}" ] && [ -f "$ROOT_CACHE" ]; then
        say "Using the root saved in $ROOT_CACHE"
        mkdir -p "$ROOTFS" && tar -C "$ROOTFS" -xf "$ROOT_CACHE"
    else
        # What Raspberry Pi OS Lite has before the kiosk: python3, systemd, apt; no compiler.
        debootstrap --arch=arm64 --variant=minbase \
            --include=python3,systemd,systemd-sysv,ca-certificates,apt-utils \
            "$SUITE" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
            || { tail -n 30 "$WORK/debootstrap.log"; return 1; }
        if [ -n "${ROOT_CACHE:-}" ]; then tar -C "$ROOTFS" -cf "$ROOT_CACHE" .; fi
    fi
    mkdir -p "$ROOTFS/boot/firmware"
    printf '[all]\n#dtparam=spi=on\n' >"$ROOTFS/boot/firmware/config.txt"
    printf 'console=tty1 root=PARTUUID=1234-02 rootfstype=ext4 rootwait\n' \
        >"$ROOTFS/boot/firmware/cmdline.txt"
    chroot "$ROOTFS" uname -m
}

no_compiler() {
    local found=()
    for c in cc gcc c++ g++ aarch64-linux-gnu-gcc clang make; do
        if chroot "$ROOTFS" sh -c "command -v $c" >/dev/null 2>&1; then found+=("$c"); fi
    done
    ((${#found[@]} == 0)) || { say "a compiler is installed: ${found[*]}"; return 1; }
    say "no compiler in the root (cc, gcc, c++, clang, make: none)"
}

enter() {
    mount -t proc proc "$ROOTFS/proc" && MOUNTS+=("$ROOTFS/proc")
    mount -t sysfs sysfs "$ROOTFS/sys" && MOUNTS+=("$ROOTFS/sys")
    mount --bind /dev "$ROOTFS/dev" && MOUNTS+=("$ROOTFS/dev")
    mount --bind /dev/pts "$ROOTFS/dev/pts" && MOUNTS+=("$ROOTFS/dev/pts")
    cp -L /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
    # Behind a TLS-inspecting proxy (many school networks, this machine's too) the host
    # trusts the proxy's CA from /usr/local/share/ca-certificates: so must the root, or pip
    # cannot reach PyPI. A Pi on that network needs the same (update-ca-certificates).
    if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
        cp /usr/local/share/ca-certificates/*.crt "$ROOTFS/usr/local/share/ca-certificates/"
        in_root update-ca-certificates >/dev/null
    fi
    # The checkout as it is on disk (tracked and new files, nothing ignored).
    mkdir -p "$ROOTFS/root/kiosk"
    git -C "$SRC" ls-files -z --cached --others --exclude-standard \
        | tar -C "$SRC" --null -T - -cf - | tar -C "$ROOTFS/root/kiosk" -xf -
}

in_root() {  # in_root COMMAND...: as root in the arm64 root, with a clean environment
    chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 TERM=dumb "$@"
}

install_kiosk() {
    in_root bash /root/kiosk/deploy/install.sh --no-start
}

# --- what a school runs --------------------------------------------------------------------

version() {
    local out
    out="$(in_root /usr/local/bin/kiosk --version)" || return 1
    say "$out"
    [[ "$out" == kiosk\ * ]]
}

demo_and_status() {
    in_root /usr/local/bin/kiosk demo --db /var/lib/kiosk/demo.db --exit-when-ready >/dev/null \
        || return 1
    local out
    out="$(in_root /usr/local/bin/kiosk status --db /var/lib/kiosk/demo.db)" || return 1
    say "$out" | head -n 12
    [ -n "$out" ]
}

unit_value() {  # unit_value UNIT KEY: each KEY= line's value, in order
    sed -n "s/^$2=//p" "$ROOTFS/etc/systemd/system/$1"
}

run_unit() {  # run_unit UNIT [EXTRA ARGS]: its ExecStart as systemd would start it (roughly)
    local unit="$1"
    shift
    local exec user wd envs=()
    exec="$(unit_value "$unit" ExecStart)"
    user="$(unit_value "$unit" User)"
    wd="$(unit_value "$unit" WorkingDirectory)"
    mapfile -t envs < <(unit_value "$unit" Environment)
    # What systemd would create: StateDirectory (install.sh made it), RuntimeDirectory.
    if [ "$(unit_value "$unit" RuntimeDirectory)" = kiosk ]; then
        mkdir -p "$ROOTFS/run/kiosk"
        chroot "$ROOTFS" chown "$user:$user" /run/kiosk
        chmod 0700 "$ROOTFS/run/kiosk"
    fi
    say "$unit: $exec $* (as $user${wd:+, in $wd})"
    # shellcheck disable=SC2086  # ExecStart is a command line
    in_root runuser -u "$user" -- env "${envs[@]}" ${RUN_ENV:-} \
        sh -c "cd '${wd:-/}' && exec \"\$@\"" sh $exec "$@"
}

units() {
    local ok=0 out rc
    # kiosk.service on a machine with no RC522, LEDs or buzzer: one line, exit 5.
    rc=0
    out="$(run_unit kiosk.service --exit-when-ready 2>&1)" || rc=$?
    say "$out"
    if [ "$rc" = 5 ] && [ "$(printf '%s\n' "$out" | grep -c '^kiosk: hardware: ')" = 1 ]; then
        say "-> exit 5, one line (no GPIO under emulation), as documented"
    else
        say "-> expected exit 5 and one 'kiosk: hardware:' line, got exit $rc"; ok=1
    fi
    # ...and with feedback off, the screen starts, reaches its idle screen and exits.
    RUN_ENV="KIOSK_HARDWARE__FEEDBACK=none" run_unit kiosk.service --exit-when-ready \
        || { say "-> kiosk run did not reach its idle screen"; ok=1; }
    run_unit kiosk-sync.service || { say "-> kiosk sync --once failed"; ok=1; }
    run_unit kiosk-backup.service || { say "-> kiosk backup failed"; ok=1; }
    # kiosk-touch.service starts cage and foot (install.sh --touch): this root has the
    # console variant, so only its kiosk command line is checked.
    local touch
    touch="$(unit_value kiosk-touch.service ExecStart)"
    if [[ "$touch" == *" /opt/kiosk/venv/bin/kiosk run" ]] && [ -x "$ROOTFS/opt/kiosk/venv/bin/kiosk" ]; then
        say "kiosk-touch.service: runs /opt/kiosk/venv/bin/kiosk run inside cage + foot (not installed: console variant)"
    else
        say "-> kiosk-touch.service does not end in the installed kiosk run: $touch"; ok=1
    fi
    return "$ok"
}

# --- the run -------------------------------------------------------------------------------

need_tools
binfmt
if [ -z "$MIRROR" ]; then MIRROR="$(host_mirror)"; fi
[ -n "$MIRROR" ] || die "no Debian mirror for $SUITE in this machine's apt sources: set MIRROR=URL"
WORK="$(mktemp -d /var/tmp/kiosk-arm64.XXXXXX)"
ROOTFS="$WORK/root"
say "Building a $SUITE arm64 root in $ROOTFS"

step "debootstrap $SUITE arm64 (minbase + python3, systemd)" build_root
if [ "$FAILED" = 0 ]; then
    step "no compiler in the root" no_compiler
    enter
    step "deploy/install.sh --no-start" install_kiosk
fi
if [ "$FAILED" = 0 ]; then
    step "kiosk --version (/usr/local/bin/kiosk)" version
    step "kiosk demo (seed) and kiosk status" demo_and_status
    in_root /usr/local/bin/kiosk status >/dev/null || true  # the school's database, for backup
    step "the units' ExecStart commands" units
fi
summary
exit "$FAILED"
