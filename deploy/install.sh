#!/usr/bin/env bash
# Install, upgrade, roll back or remove the school sign-out kiosk on Raspberry Pi OS (Bookworm).
#
#   sudo deploy/install.sh              install, or upgrade in place (data and settings kept)
#   sudo deploy/install.sh --touch      the touch-screen variant (cage + foot) instead of tty1
#   sudo deploy/install.sh --console    back to the plain console screen on tty1
#   sudo deploy/install.sh --rollback   go back to the previously installed version
#   sudo deploy/install.sh --uninstall  remove the program and units, keep settings and data
#   sudo deploy/install.sh --uninstall --purge   ...and delete settings, database and backups
#   --no-start                          install and enable, but do not start anything now
#   --web                               also run the office board in a browser (kiosk-web)
#   --web-tls[=NAME]                    ...on https:// for the school network, with a
#                                       certificate made for NAME (default: this Pi's name.local)
#
# Each install builds a new virtual environment in /opt/kiosk/releases/<id>/venv
# and only when it works is /opt/kiosk/venv switched to it (one atomic rename),
# so a failed upgrade leaves the running version untouched and the previous
# version stays ready for --rollback.
#
# For tests: ROOT=/some/dir installs into that directory instead of /, and does
# nothing to the running system (no apt-get, no service starts). The system
# commands it calls are found on PATH (a test puts recording doubles first);
# PYTHON, SYSTEMCTL, RASPI_CONFIG and KIOSK_PIP_ARGS can be overridden.
set -euo pipefail

ROOT="${ROOT:-}"
ROOT="${ROOT%/}"
PYTHON="${PYTHON:-python3}"
SYSTEMCTL="${SYSTEMCTL:-systemctl}"
RASPI_CONFIG="${RASPI_CONFIG:-}"
KIOSK_PIP_ARGS="${KIOSK_PIP_ARGS:-}"

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX=/opt/kiosk
USER_NAME=kiosk
GROUPS_NEEDED=(spi gpio input)
TOUCH_GROUPS=(video render)
UNITS=(kiosk.service kiosk-touch.service kiosk-sync.service kiosk-sync.timer
       kiosk-backup.service kiosk-backup.timer kiosk-web.service)
TIMERS=(kiosk-sync.timer kiosk-backup.timer)
# spidev and evdev are C extensions with no ARM wheels on PyPI: from apt, never compiled.
APT_PACKAGES=(python3-venv python3-pip python3-spidev python3-evdev)
# Raspberry Pi OS has python3-lgpio; plain Debian does not, and pip then takes lgpio's
# aarch64 wheel (the project depends on it on ARM).
APT_IF_THERE=(python3-lgpio)
TOUCH_PACKAGES=(cage foot)
KEEP_RELEASES=3

say() { printf '%s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }
live() { [ -z "$ROOT" ]; }   # acting on the running system (not a throwaway root)
# systemd is running this system (not a chroot, e.g. an SD card image being prepared):
# only then can units be reloaded and started; enabling them works either way.
booted() { live && [ -d /run/systemd/system ]; }

sctl() {
    if live; then "$SYSTEMCTL" "$@"; else "$SYSTEMCTL" --root="$ROOT" "$@"; fi
}

has_user() {
    if live; then getent passwd "$1" >/dev/null; else grep -q "^$1:" "$ROOT/etc/passwd" 2>/dev/null; fi
}

has_group() {
    if live; then getent group "$1" >/dev/null; else grep -q "^$1:" "$ROOT/etc/group" 2>/dev/null; fi
}

rootopt() { if live; then :; else printf -- '--root\n%s\n' "$ROOT"; fi; }

# --- the office board in a browser (kiosk web), when asked for ------------------------
# --web enables kiosk-web.service as the settings have it (127.0.0.1:8080: for the
# school's reverse proxy, see the README). --web-tls[=NAME] also makes a self-signed
# certificate for NAME (and this Pi's other names and addresses) and, when kiosk.toml has
# no [web] section yet, serves https:// on every network the Pi is on, port 8443.
# An existing certificate is kept on upgrades (delete it to make a new one).
WEB=0
WEB_TLS_NAME=""
WEB_CERT=/etc/kiosk/web-cert.pem
WEB_KEY=/etc/kiosk/web-key.pem
WEB_TLS_PORT=8443
WEB_CERT_DAYS=825

web_default_name() {
    local short
    short="$(hostname -s 2>/dev/null || hostname)"
    printf '%s.local\n' "${short:-raspberrypi}"
}

web_alt_names() {
    local names=("DNS:$WEB_TLS_NAME") short ip
    short="$(hostname -s 2>/dev/null || true)"
    if [ -n "$short" ] && [ "$short" != "$WEB_TLS_NAME" ]; then names+=("DNS:$short"); fi
    if live; then
        for ip in $(hostname -I 2>/dev/null || true); do names+=("IP:$ip"); done
    fi
    (IFS=,; printf '%s\n' "${names[*]}")
}

web_make_certificate() {
    local cert="$ROOT$WEB_CERT" key="$ROOT$WEB_KEY"
    if [ -s "$cert" ] && [ -s "$key" ]; then
        say "Kept the web certificate $WEB_CERT (delete it and run again for a new one)"
        return
    fi
    command -v openssl >/dev/null || die "openssl is needed for --web-tls: apt-get install openssl"
    local tmp
    tmp="$(mktemp -d)"
    if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -sha256 -nodes \
            -days "$WEB_CERT_DAYS" -subj "/CN=$WEB_TLS_NAME" \
            -addext "subjectAltName=$(web_alt_names)" \
            -addext "basicConstraints=critical,CA:FALSE" \
            -addext "extendedKeyUsage=serverAuth" \
            -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>"$tmp/err"; then
        cat "$tmp/err" >&2
        rm -rf "$tmp"
        die "openssl could not make the web certificate"
    fi
    install -m 0640 "$tmp/key.pem" "$key"
    install -m 0644 "$tmp/cert.pem" "$cert"
    rm -rf "$tmp"
    chown "root:$USER_NAME" "$key" "$cert"
    say "Made a certificate for $WEB_TLS_NAME: $WEB_CERT (browsers ask once to trust it)"
}

web_settings() {
    local toml="$ROOT/etc/kiosk/kiosk.toml"
    if grep -Eq '^[[:space:]]*\[web\]' "$toml"; then
        say "Your kiosk.toml has a [web] section: to serve https:// set there"
        say "  listen = \"0.0.0.0\", port = $WEB_TLS_PORT, tls_cert = \"$WEB_CERT\", tls_key = \"$WEB_KEY\""
        return
    fi
    printf '\n[web]\n# Written by install.sh --web-tls: the board on https:// for the school network.\nlisten = "0.0.0.0"\nport = %s\ntls_cert = "%s"\ntls_key = "%s"\n' \
        "$WEB_TLS_PORT" "$WEB_CERT" "$WEB_KEY" >> "$toml"
    say "Set [web] in /etc/kiosk/kiosk.toml: https://$WEB_TLS_NAME:$WEB_TLS_PORT/"
}

web_setup() {
    [ "$WEB" = 1 ] || return 0
    if [ -n "$WEB_TLS_NAME" ]; then
        web_make_certificate
        web_settings
    fi
    sctl enable --quiet kiosk-web.service
    if live && [ "$START" = 1 ]; then "$SYSTEMCTL" restart kiosk-web.service; fi
    say "Enabled kiosk-web.service. Add a web account: sudo kiosk web add-user NAME --name \"Full Name\""
}

# --- options ------------------------------------------------------------------------

ARGS="$*"
MODE=install
SCREEN=""
PURGE=0
START=1
while [ $# -gt 0 ]; do
    case "$1" in
        --touch) SCREEN="touch" ;;
        --console) SCREEN="console" ;;
        --rollback) MODE=rollback ;;
        --uninstall) MODE=uninstall ;;
        --purge) PURGE=1 ;;
        --no-start) START=0 ;;
        --web) WEB=1 ;;
        --web-tls) WEB=1; WEB_TLS_NAME="$(web_default_name)" ;;
        --web-tls=*) WEB=1; WEB_TLS_NAME="${1#--web-tls=}" ;;
        -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option $1 (try --help)" ;;
    esac
    shift
done
case "$WEB_TLS_NAME" in
    *[!A-Za-z0-9.-]*|.*|-*) die "--web-tls=NAME: a host name like kiosk.local, not '$WEB_TLS_NAME'" ;;
esac
if [ "$PURGE" = 1 ] && [ "$MODE" != uninstall ]; then
    die "--purge only goes with --uninstall"
fi
if live && [ "$(id -u)" != 0 ]; then
    die "run it as root: sudo $0 $ARGS"
fi

# --- steps --------------------------------------------------------------------------

apt_has() {  # apt_has PACKAGE: the package archive has it (an install candidate)
    local candidate
    candidate="$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p')"
    [ -n "$candidate" ] && [ "$candidate" != "(none)" ]
}

install_packages() {
    local pkgs=("${APT_PACKAGES[@]}")
    if [ "$SCREEN" = touch ]; then pkgs+=("${TOUCH_PACKAGES[@]}"); fi
    if ! live; then
        say "(throwaway root: not installing ${pkgs[*]})"
        return
    fi
    apt-get update -q || die "apt-get update failed: is the Pi online?"
    local p
    for p in "${APT_IF_THERE[@]}"; do
        if apt_has "$p"; then pkgs+=("$p"); else say "($p is not in this system's packages: pip brings it)"; fi
    done
    say "Installing system packages: ${pkgs[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}" \
        || die "could not install ${pkgs[*]}"
}

SPI_REBOOT=0
enable_spi() {
    if live && [ -z "$RASPI_CONFIG" ] && command -v raspi-config >/dev/null; then
        RASPI_CONFIG=raspi-config
    fi
    if [ -n "$RASPI_CONFIG" ]; then
        "$RASPI_CONFIG" nonint do_spi 0 || die "raspi-config could not enable SPI"
    else
        local cfg=""
        for candidate in "$ROOT/boot/firmware/config.txt" "$ROOT/boot/config.txt"; do
            if [ -f "$candidate" ]; then cfg="$candidate"; break; fi
        done
        if [ -z "$cfg" ]; then
            say "WARNING: no /boot/firmware/config.txt: enable SPI yourself (dtparam=spi=on)."
            return
        fi
        if grep -Eq '^[[:space:]]*dtparam=spi=on' "$cfg"; then
            :
        elif grep -Eq '^[[:space:]]*#[[:space:]]*dtparam=spi=on' "$cfg"; then
            sed -i -E 's/^[[:space:]]*#[[:space:]]*(dtparam=spi=on)/\1/' "$cfg"
            say "SPI enabled in $cfg"
        else
            printf '\n# RC522 reader (school kiosk)\ndtparam=spi=on\n' >> "$cfg"
            say "SPI enabled in $cfg"
        fi
    fi
    if [ ! -e "$ROOT/dev/spidev0.0" ]; then SPI_REBOOT=1; fi
}

console_stays_on() {
    # The console blanks after a while by default, and a tag read does not wake it.
    local cmdline="$ROOT/boot/firmware/cmdline.txt"
    [ -f "$cmdline" ] || return 0
    if ! grep -q 'consoleblank=' "$cmdline"; then
        sed -i '1 s/[[:space:]]*$/ consoleblank=0/' "$cmdline"
        say "Screen blanking turned off in $cmdline"
    fi
}

create_user() {
    local groups=("${GROUPS_NEEDED[@]}")
    if [ "$SCREEN" = touch ]; then groups+=("${TOUCH_GROUPS[@]}"); fi
    local ro
    mapfile -t ro < <(rootopt)
    for g in "${groups[@]}"; do
        has_group "$g" || groupadd --system "${ro[@]}" "$g"
    done
    has_group "$USER_NAME" || groupadd --system "${ro[@]}" "$USER_NAME"
    local list
    list="$(IFS=,; echo "${groups[*]}")"
    if has_user "$USER_NAME"; then
        usermod "${ro[@]}" --append --groups "$list" "$USER_NAME"
    else
        say "Creating the user $USER_NAME"
        useradd --system "${ro[@]}" --gid "$USER_NAME" --groups "$list" \
            --home-dir /var/lib/kiosk --no-create-home --shell /usr/sbin/nologin \
            --comment "School sign-out kiosk" "$USER_NAME"
    fi
}

release_id() {
    local id rev=""
    rev="$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || true)"
    id="$(date -u +%Y%m%d-%H%M%S)${rev:+-$rev}"
    local n=2 candidate="$id"
    while [ -e "$ROOT$PREFIX/releases/$candidate" ]; do candidate="$id-$n"; n=$((n + 1)); done
    printf '%s\n' "$candidate"
}

NEW_RELEASE=""
build_release() {
    local id rel
    id="$(release_id)"
    rel="$ROOT$PREFIX/releases/$id"
    say "Building $PREFIX/releases/$id from $SRC"
    mkdir -p "$rel"
    # System site packages: lgpio, spidev and evdev come from Raspberry Pi OS,
    # built for this Pi; everything else from pip into the venv.
    # No pip inside the venv (upgrades come through this script); the system's
    # pip installs into it with --python.
    "$PYTHON" -m venv --system-site-packages --without-pip "$rel/venv" \
        || { rm -rf "$rel"; die "could not create a venv (is python3-venv installed?)"; }
    # The Pi's own driver packages, when the project lists them as the "pi" extra.
    local target="$SRC"
    if "$PYTHON" -c 'import sys, tomllib
extras = tomllib.load(open(sys.argv[1], "rb"))["project"].get("optional-dependencies", {})
sys.exit(0 if "pi" in extras else 1)' "$SRC/pyproject.toml"; then
        target="${SRC}[pi]"
    fi
    # Its own step, without dependencies: what deploy/no-deps.txt lists declares packages
    # that would be compiled here (mfrc522 -> RPi.GPIO), and the kiosk needs none of them.
    # shellcheck disable=SC2086  # KIOSK_PIP_ARGS is a list of options
    if ! "$PYTHON" -m pip --python "$rel/venv/bin/python" install --quiet \
            --disable-pip-version-check $KIOSK_PIP_ARGS --no-deps -r "$SRC/deploy/no-deps.txt" \
        || ! "$PYTHON" -m pip --python "$rel/venv/bin/python" install --quiet \
            --disable-pip-version-check $KIOSK_PIP_ARGS "$target"; then
        rm -rf "$rel"
        die "pip install failed; the installed version was not changed"
    fi
    # The services run with a read-only /opt: compile every module now, since
    # Python could not write __pycache__ at run time.
    "$rel/venv/bin/python" -m compileall -q -j 0 "$rel/venv/lib" >/dev/null \
        || { rm -rf "$rel"; die "compiling the bytecode failed"; }
    if ! "$rel/venv/bin/kiosk" --version >/dev/null; then
        rm -rf "$rel"
        die "the new version does not start ($rel/venv/bin/kiosk --version failed); nothing changed"
    fi
    NEW_RELEASE="$id"
}

current_release() {
    local link="$ROOT$PREFIX/venv"
    [ -L "$link" ] || return 0
    basename "$(dirname "$(readlink "$link")")"
}

point() {  # point NAME RELEASE: /opt/kiosk/NAME -> releases/RELEASE/venv, atomically
    ln -sfn "releases/$2/venv" "$ROOT$PREFIX/.$1.new"
    mv -T "$ROOT$PREFIX/.$1.new" "$ROOT$PREFIX/$1"
}

switch_to() {
    local new="$1" old
    old="$(current_release)"
    if [ -n "$old" ] && [ "$old" != "$new" ]; then point previous "$old"; fi
    point venv "$new"
}

prune_releases() {
    local keep_now keep_prev
    keep_now="$(current_release)"
    keep_prev=""
    if [ -L "$ROOT$PREFIX/previous" ]; then
        keep_prev="$(basename "$(dirname "$(readlink "$ROOT$PREFIX/previous")")")"
    fi
    # Release ids start with a UTC time stamp: the glob lists them oldest first.
    local all=("$ROOT$PREFIX"/releases/*/) i rel
    for ((i = 0; i < ${#all[@]} - KEEP_RELEASES; i++)); do
        rel="$(basename "${all[$i]}")"
        if [ "$rel" != "$keep_now" ] && [ "$rel" != "$keep_prev" ]; then
            rm -rf "$ROOT$PREFIX/releases/$rel"
        fi
    done
}

backup_before_upgrade() {
    local db="$ROOT/var/lib/kiosk/kiosk.db"
    [ -f "$db" ] || return 0
    say "Backing up the database before the upgrade"
    runuser -u "$USER_NAME" -- "$ROOT$PREFIX/releases/$NEW_RELEASE/venv/bin/kiosk" backup \
        --config "$ROOT/etc/kiosk/kiosk.toml" --db "$db" \
        --dest "$ROOT/var/lib/kiosk/backups/before-upgrade" --keep-daily 5 --keep-weekly 0 \
        || die "the backup before the upgrade failed; the installed version was not changed"
}

install_files() {
    local etc="$ROOT/etc/kiosk"
    mkdir -p "$etc" "$ROOT/var/lib/kiosk" "$ROOT/etc/systemd/system" "$ROOT/etc/pam.d" \
        "$ROOT/usr/local/bin" "$ROOT$PREFIX/docs"
    chmod 0750 "$etc" "$ROOT/var/lib/kiosk"
    chown "root:$USER_NAME" "$etc"
    chown "$USER_NAME:$USER_NAME" "$ROOT/var/lib/kiosk"
    if [ ! -e "$etc/kiosk.toml" ]; then
        install -m 0640 "$SRC/deploy/kiosk.toml" "$etc/kiosk.toml"
        chown "root:$USER_NAME" "$etc/kiosk.toml"
        say "Wrote $etc/kiosk.toml: edit the school's name, term dates and alerts there."
    else
        say "Kept your settings in $etc/kiosk.toml"
    fi
    if [ ! -e "$etc/foot.ini" ]; then
        install -m 0644 "$SRC/deploy/foot.ini" "$etc/foot.ini"
    fi
    for unit in "${UNITS[@]}"; do
        install -m 0644 "$SRC/systemd/$unit" "$ROOT/etc/systemd/system/$unit"
    done
    install -m 0644 "$SRC/deploy/pam.d/kiosk-touch" "$ROOT/etc/pam.d/kiosk-touch"
    install -m 0644 "$SRC/docs/install-pi.md" "$ROOT$PREFIX/docs/install-pi.md"
    # `sudo kiosk ...` runs as the kiosk user, so files it creates stay the kiosk's.
    cat > "$ROOT/usr/local/bin/kiosk" <<EOF
#!/bin/sh
# The school kiosk's command (installed by deploy/install.sh).
# As root it runs as the kiosk user, so the database stays the kiosk's own.
# lgpio's working directory (LG_WD) is chosen by the kiosk itself (hardware/gpio.py),
# for this and every other entry point: a folder it can write, whatever folder this
# was started from.
if [ "\$(id -u)" = 0 ]; then
    exec runuser -u $USER_NAME -- $PREFIX/venv/bin/kiosk "\$@"
fi
exec $PREFIX/venv/bin/kiosk "\$@"
EOF
    chmod 0755 "$ROOT/usr/local/bin/kiosk"
}

choose_screen() {
    if [ -n "$SCREEN" ]; then return; fi
    if sctl is-enabled --quiet kiosk-touch.service 2>/dev/null; then SCREEN="touch"; else SCREEN="console"; fi
}

enable_units() {
    local screen=kiosk.service other=kiosk-touch.service
    if [ "$SCREEN" = touch ]; then screen=kiosk-touch.service; other=kiosk.service; fi
    if booted; then "$SYSTEMCTL" daemon-reload; fi
    sctl disable --quiet "$other" 2>/dev/null || true
    if booted && [ "$START" = 1 ]; then "$SYSTEMCTL" stop "$other" 2>/dev/null || true; fi
    # The kiosk takes tty1 from the login prompt.
    sctl disable --quiet getty@tty1.service 2>/dev/null || true
    sctl enable --quiet "$screen" "${TIMERS[@]}"
    if booted && [ "$START" = 1 ]; then
        "$SYSTEMCTL" restart "$screen"
        "$SYSTEMCTL" start "${TIMERS[@]}"
    fi
    say "Enabled $screen and ${TIMERS[*]}"
    if live && ! booted; then say "(systemd is not running here: they start at the next boot)"; fi
}

do_install() {
    [ -f "$SRC/pyproject.toml" ] && [ -d "$SRC/systemd" ] || die "run it from a kiosk checkout ($SRC)"
    choose_screen
    install_packages
    enable_spi
    console_stays_on
    create_user
    mkdir -p "$ROOT$PREFIX/releases"
    build_release
    install_files
    backup_before_upgrade
    switch_to "$NEW_RELEASE"
    prune_releases
    enable_units
    web_setup
    say ""
    say "Installed release $NEW_RELEASE in $PREFIX."
    if [ "$SPI_REBOOT" = 1 ]; then
        say "SPI was just enabled: reboot the Pi now (sudo reboot) so the reader can be found."
    fi
    say "Next: sudo kiosk hardware-check, then sudo kiosk import staff FILE (see $PREFIX/docs/install-pi.md)."
}

do_rollback() {
    local prev now
    [ -L "$ROOT$PREFIX/previous" ] || die "there is no previous version to go back to"
    prev="$(basename "$(dirname "$(readlink "$ROOT$PREFIX/previous")")")"
    now="$(current_release)"
    [ -d "$ROOT$PREFIX/releases/$prev/venv" ] || die "the previous version ($prev) is no longer there"
    point venv "$prev"
    if [ -n "$now" ]; then point previous "$now"; fi
    choose_screen
    local screen=kiosk.service
    if [ "$SCREEN" = touch ]; then screen=kiosk-touch.service; fi
    if booted && [ "$START" = 1 ]; then "$SYSTEMCTL" restart "$screen"; fi
    say "Now running release $prev (was $now). Run --rollback again to undo."
    say "If the kiosk says the database was written by a newer kiosk, restore the backup"
    say "made before the upgrade: sudo kiosk restore /var/lib/kiosk/backups/before-upgrade/<newest>.db"
}

do_uninstall() {
    if live; then
        "$SYSTEMCTL" stop "${UNITS[@]}" 2>/dev/null || true
    fi
    sctl disable --quiet "${UNITS[@]}" 2>/dev/null || true
    for unit in "${UNITS[@]}"; do rm -f "$ROOT/etc/systemd/system/$unit"; done
    rm -f "$ROOT/etc/pam.d/kiosk-touch" "$ROOT/usr/local/bin/kiosk"
    rm -rf "$ROOT$PREFIX"
    # Give tty1 its login prompt back.
    sctl enable --quiet getty@tty1.service 2>/dev/null || true
    if live; then
        "$SYSTEMCTL" daemon-reload
        "$SYSTEMCTL" start getty@tty1.service 2>/dev/null || true
    fi
    if [ "$PURGE" = 1 ]; then
        rm -rf "$ROOT/etc/kiosk" "$ROOT/var/lib/kiosk"
        if has_user "$USER_NAME"; then
            local ro
            mapfile -t ro < <(rootopt)
            userdel "${ro[@]}" "$USER_NAME"
        fi
        say "Removed the kiosk, its settings, database and backups."
    else
        say "Removed the kiosk. Kept the settings (/etc/kiosk) and the database and"
        say "backups (/var/lib/kiosk); --uninstall --purge deletes them too."
    fi
}

case "$MODE" in
    install) do_install ;;
    rollback) do_rollback ;;
    uninstall) do_uninstall ;;
esac
