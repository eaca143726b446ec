#!/usr/bin/env bash
# QGIS test beds in chroots beside a Debian 12 host (QGIS 3.22): the project's test suite (or the
# demo) on a newer Debian's QGIS. One leg per supported QGIS that Debian ships:
#
#   leg  Debian suite  QGIS               GDAL / Python     make targets
#   340  trixie        3.40 LTR (Qt 5)    3.10 / 3.13       test-qgis340, demo-qgis340
#   344  sid           3.44 (Qt 5)        3.13 / 3.14       test-qgis344, demo-qgis344
#
#   bash scripts/qgis-chroot.sh LEG test [pytest args]   what `make test-qgisLEG` runs
#   bash scripts/qgis-chroot.sh LEG demo [args]          python -m arcgis_emulator.demo (`make demo-qgisLEG`)
#   bash scripts/qgis-chroot.sh LEG shell [cmd...]       a shell (or a command) in the chroot, for debugging
#   bash scripts/qgis-chroot.sh LEG build                only make sure the root is built and up to date
#   bash scripts/qgis-chroot.sh LEG remove               delete the root
#
# How it works
#   * The root file system lives outside the checkout, in $QGIS<LEG>_ROOT
#     (default /var/tmp/arcgis_offline_tiles-qgis<LEG>): `debootstrap --variant=minbase <suite>`
#     from the host's Debian mirror, then apt installs scripts/qgis<LEG>-packages.txt, then a venv
#     at /opt/aot-venv (inside the root) from the root's /usr/bin/python3 --system-site-packages
#     gets requirements-qgis<LEG>.txt if it exists, else requirements-dev.txt.
#   * sid has no -updates or -security suites. The sid index this project installs from is a frozen
#     snapshot whose Release file is past its Valid-Until date, so apt in the sid root runs with
#     Acquire::Check-Valid-Until=false (written to the root's apt.conf.d); without it
#     `apt-get update` refuses the index as expired. (debootstrap does not check the date.)
#   * Stamps written last: .aot-root.stamp (hash of the package list) and .aot-venv.stamp (hash of
#     the requirements). An interrupted build, a package removed from the list or a new LAYOUT
#     rebuilds the root from scratch (~2-5 min); packages added to the list are apt-installed into
#     it (seconds); changed requirements rebuild only the venv (~20 s). Otherwise the root is
#     reused as it is (~1-2 s).
#   * Everything that mounts or runs in the root happens inside `unshare --mount --pid --fork`:
#     proc/sys/dev, the checkout (read-write, same absolute path) and ../shared (read-only) are
#     mounted in a private mount namespace the host never sees, and when the script ends (normally,
#     on failure, Ctrl-C, SIGTERM, even SIGKILL) the PID namespace dies, killing every process
#     started in it and dropping every mount with it.
#   * Tests run as the owner of the checkout, with HOME, the bytecode cache (PYTHONPYCACHEPREFIX)
#     and the emulator tile cache (AOT_EMULATOR_CACHE=/var/cache/aot-emulator/<uid>/samples) inside
#     the root, so nothing root-owned or Python-version-specific is left in the checkout.
#   * A lock file (<root>.lock) lets several runs share a root while a (re)build waits for them to
#     finish; each leg has its own root and lock, so legs can run side by side.
# Needs root (chroot, mounts). On a fresh Debian 12 it installs debootstrap when it is missing.
set -euo pipefail
export PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

SELF=$(readlink -f "${BASH_SOURCE[0]}")
PROJECT=$(cd "$(dirname "$SELF")/.." && pwd -P)
usage() { echo "usage: bash scripts/qgis-chroot.sh 340|344 test|demo|shell|build|remove [args]" >&2; exit 2; }

LEG=${1:-}
case $LEG in
    -h|--help|help) sed -n '2,13p' "$SELF" | sed 's/^# \{0,1\}//'; exit 0 ;;
    # SUITES: the apt suites of the root's sources; SECURITY: whether the suite has a -security one
    340) SUITE=trixie; SUITES="trixie trixie-updates"; SECURITY=1; CHECK_VALID_UNTIL=1 ;;
    344) SUITE=sid;    SUITES="sid";                   SECURITY=0; CHECK_VALID_UNTIL=0 ;;
    *) usage ;;
esac
shift

NAME=qgis$LEG
root_var=QGIS${LEG}_ROOT
ROOT=${!root_var:-/var/tmp/arcgis_offline_tiles-$NAME}
ROOT=${ROOT%/}
LOCK=$ROOT.lock
LOG=$ROOT.build.log
LAYOUT=1                 # bump when the build steps change: forces a clean rebuild
VENV=/opt/aot-venv       # inside the root
EMULATOR_DIR=/var/cache/aot-emulator   # inside the root: <uid>/samples per checkout owner (the
                                       # emulator puts its build lock and temporary folder beside it)
PKG_FILE=$PROJECT/scripts/$NAME-packages.txt
REQ_FILE=$PROJECT/requirements-$NAME.txt
[ -f "$REQ_FILE" ] || REQ_FILE=$PROJECT/requirements-dev.txt

say() { echo "$NAME: $*"; }
die() { echo "$NAME: error: $*" >&2; exit 1; }

read_packages() { sed 's/#.*//' "$PKG_FILE" | tr -s ' \t' '\n\n' | sed '/^$/d'; }
hash_of() { sha256sum | cut -c1-64; }
ROOT_HEADER="layout=$LAYOUT suite=$SUITE"
root_stamp() { { echo "$ROOT_HEADER"; read_packages | sort -u; } | hash_of; }
venv_stamp() { { echo "layout=$LAYOUT venv=$VENV"; cat "$REQ_FILE"; } | hash_of; }
root_ok() { [ "$(cat "$ROOT/.aot-root.stamp" 2>/dev/null)" = "$(root_stamp)" ]; }
venv_ok() { root_ok && [ "$(cat "$ROOT/.aot-venv.stamp" 2>/dev/null)" = "$(venv_stamp)" ]; }

# The host's Debian mirror for suite $1 (its codename, or codename-security): deb822 *.sources and
# one-line *.list/sources.list entries.
host_mirror() {
    local want=$1 f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v want="$want" '
            function flush() { if (deb && uri != "" && suites ~ ("(^| )" want "( |$)")) { print uri; found = 1; exit } }
            /^[[:space:]]*$/ { flush(); deb = 0; uri = ""; suites = ""; next }
            /^Types:/   { deb = ($0 ~ /[[:space:]]deb([[:space:]]|$)/) }
            /^URIs:/    { uri = $2 }
            /^Suites:/  { $1 = ""; suites = $0; gsub(/^ +| +$/, "", suites) }
            /^Enabled:[[:space:]]*no/ { deb = 0 }
            END { if (!found) flush() }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk -v want="$want" '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                                           if ($(i + 1) == want) { print $i; exit } }' "$f"
    done
}

# ---------------------------------------------------------------------------------------------
# Inside the private mount + PID namespace (pid 1 there): build if needed, mount, run.
# ---------------------------------------------------------------------------------------------
MOUNTED_SYS=0
MOUNTED_PROJECT=0

in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
                HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

# Refuse to delete a root that has anything mounted under it (this namespace is a copy of the host's).
assert_nothing_mounted() {
    if awk -v r="$ROOT" '$5 == r || index($5, r "/") == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
        die "something is mounted under $ROOT (see: findmnt | grep '$ROOT'); not deleting it"
    fi
}

mount_sys() {
    ((MOUNTED_SYS)) && return 0
    mount -t proc proc "$ROOT/proc"          # a proc of this PID namespace: only our processes
    mount --rbind /sys "$ROOT/sys"
    mount --rbind /dev "$ROOT/dev"
    MOUNTED_SYS=1
}

bind() {  # bind <host dir> [ro]: the same path inside the root
    local src=$1 dst=$ROOT$1
    mkdir -p "$dst"
    mount --bind "$src" "$dst"
    if [ "${2:-}" = ro ]; then mount -o remount,bind,ro "$dst"; fi
}

mount_project() {
    ((MOUNTED_PROJECT)) && return 0
    mount_sys
    bind "$PROJECT"
    SHARED=${AOT_SHARED_DIR:-$(dirname "$PROJECT")/shared}
    if [ -d "$SHARED" ]; then
        SHARED=$(cd "$SHARED" && pwd -P)
        bind "$SHARED" ro
    else
        SHARED=""
    fi
    MOUNTED_PROJECT=1
}

BUILDING=""
on_inner_exit() {  # a failed build: show the end of its log (the root stays stamp-less: rebuilt next time)
    local rc=$?
    if [ "$rc" != 0 ] && [ -n "$BUILDING" ]; then
        echo "$NAME: error: $BUILDING failed (exit $rc); last lines of $LOG:" >&2
        tail -n 25 "$LOG" | sed 's/^/    /' >&2 || true
    fi
}

build_root() {
    local mirror security codename keyring pkgs t0=$SECONDS
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    mirror_var=QGIS${LEG}_MIRROR
    mirror=${!mirror_var:-$(host_mirror "$codename" | head -n1)}
    mirror=${mirror:-http://deb.debian.org/debian}
    security=""
    if ((SECURITY)); then
        security_var=QGIS${LEG}_SECURITY_MIRROR
        security=${!security_var-$(host_mirror "$codename-security" | head -n1)}
    fi
    mapfile -t pkgs < <(read_packages)

    say "building root (first time, ~2-4 min)… in $ROOT, log in $LOG"
    assert_nothing_mounted
    rm -rf --one-file-system "$ROOT"
    mkdir -p "$ROOT"
    : >"$LOG"
    BUILDING="building the root"

    say "debootstrap --variant=minbase $SUITE from $mirror"
    debootstrap --variant=minbase --components=main --include=ca-certificates \
        "$SUITE" "$ROOT" "$mirror" >>"$LOG" 2>&1

    say "debootstrap done ($((SECONDS - t0)) s)"
    mount_sys
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    [ -f "$ROOT$keyring" ] || keyring=/usr/share/keyrings/debian-archive-keyring.pgp
    rm -f "$ROOT/etc/apt/sources.list"
    {
        printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
            "$mirror" "$SUITES" "$keyring"
        if [ -n "$security" ]; then
            printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: %s\n' \
                "$security" "$SUITE" "$keyring"
        fi
    } >"$ROOT/etc/apt/sources.list.d/debian.sources"
    if ! ((CHECK_VALID_UNTIL)); then
        # A frozen snapshot's Release file is past its Valid-Until date: apt would refuse it as
        # expired (same as `apt-get -o Acquire::Check-Valid-Until=false`).
        echo 'Acquire::Check-Valid-Until "false";' >"$ROOT/etc/apt/apt.conf.d/99aot-snapshot"
    fi
    printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"   # never start services
    chmod 755 "$ROOT/usr/sbin/policy-rc.d"
    printf '%s\n' 'path-exclude /usr/share/man/*' 'path-exclude /usr/share/doc/*' \
        'path-include /usr/share/doc/*/copyright' >"$ROOT/etc/dpkg/dpkg.cfg.d/aot-nodoc"
    echo force-unsafe-io >"$ROOT/etc/dpkg/dpkg.cfg.d/aot-unsafe-io"
    cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
    cp -L /etc/hosts "$ROOT/etc/hosts" 2>/dev/null || true
    # The host's extra CAs (TLS-inspecting proxies): pip checks certificates against them.
    if [ -d /usr/local/share/ca-certificates ]; then
        cp -a /usr/local/share/ca-certificates/. "$ROOT/usr/local/share/ca-certificates/"
    fi
    in_root update-ca-certificates >>"$LOG" 2>&1

    say "apt: installing ${#pkgs[@]} packages and their dependencies ($SUITE)"
    apt_install "${pkgs[@]}"
    finish_root
    say "root built in $((SECONDS - t0)) s ($(du -sh --one-file-system "$ROOT" | cut -f1))"
}

apt_install() {
    in_root apt-get update -q >>"$LOG" 2>&1
    in_root apt-get install -y -q --no-install-recommends "$@" >>"$LOG" 2>&1
    in_root apt-get clean
    rm -rf "$ROOT"/var/lib/apt/lists/*_dists_*
    in_root update-ca-certificates >>"$LOG" 2>&1   # again: a package may have reset the bundle
}

finish_root() {
    in_root env QT_QPA_PLATFORM=offscreen /usr/bin/python3 -c '
import sys, subprocess
from qgis.core import Qgis
gdal = subprocess.run(["gdalinfo", "--version"], capture_output=True, text=True).stdout.split(",")[0]
print(f"QGIS {Qgis.QGIS_VERSION}, {gdal}, Python {sys.version.split()[0]}")' >"$ROOT/.aot-versions"
    { echo "$ROOT_HEADER"; read_packages | sort -u; } >"$ROOT/.aot-packages"
    root_stamp >"$ROOT/.aot-root.stamp"     # last: a root without it is rebuilt from scratch
    BUILDING=""
}

# A complete root whose package list only lacks some packages of the new list gets them added
# (seconds); a removed package or a different layout/suite means a rebuild from scratch.
extendable() {
    [ -f "$ROOT/.aot-root.stamp" ] && [ -f "$ROOT/.aot-packages" ] || return 1
    [ "$(head -n1 "$ROOT/.aot-packages")" = "$ROOT_HEADER" ] || return 1
    [ -z "$(comm -23 <(tail -n +2 "$ROOT/.aot-packages") <(read_packages | sort -u))" ]
}

extend_root() {
    local -a added
    mapfile -t added < <(comm -13 <(tail -n +2 "$ROOT/.aot-packages") <(read_packages | sort -u))
    say "apt: adding ${added[*]} to the root (the package list grew)"
    BUILDING="adding packages to the root"
    echo "=== extend $(date -Is): ${added[*]}" >>"$LOG"
    rm -f "$ROOT/.aot-root.stamp"        # interrupted from here on: rebuilt from scratch next time
    mount_sys
    cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
    apt_install "${added[@]}"
    finish_root
}

# pip configuration of the host: files copied to the same places, PIP_* variables passed on, local
# indexes/find-links directories they name bind-mounted read-only at the same paths.
PIP_ENV=()
prepare_pip_config() {
    local f dst p dir
    local -a files=(/etc/pip.conf /etc/xdg/pip/pip.conf)
    [ -n "${HOME:-}" ] && files+=("$HOME/.config/pip/pip.conf" "$HOME/.pip/pip.conf")
    for f in "${files[@]}"; do
        [ -f "$f" ] || continue
        case $f in
            "$HOME"/*) dst=$ROOT/root/${f#"$HOME"/} ;;
            *) dst=$ROOT$f ;;
        esac
        mkdir -p "$(dirname "$dst")"
        cp -L "$f" "$dst"
    done
    if [ -n "${PIP_CONFIG_FILE:-}" ] && [ -f "$PIP_CONFIG_FILE" ]; then
        cp -L "$PIP_CONFIG_FILE" "$ROOT/etc/aot-pip-config-file.conf"
        PIP_ENV+=(PIP_CONFIG_FILE=/etc/aot-pip-config-file.conf)
    fi
    while IFS='=' read -r name _; do
        [ "$name" = PIP_CONFIG_FILE ] || PIP_ENV+=("$name=${!name}")
    done < <(env | grep -E '^PIP_[A-Z0-9_]+=' || true)
    # Local paths named by the configuration (file:// indexes, find-links directories, certificates)
    for p in $( { cat "${files[@]}" 2>/dev/null; printf '%s\n' "${PIP_ENV[@]}"; } \
                | grep -oE '(file://)?/[^[:space:]"'"'"',;]+' | sed 's|^file://||' | sort -u); do
        if [ -f "$p" ] && [ ! -e "$ROOT$p" ]; then
            mkdir -p "$(dirname "$ROOT$p")"; cp -L "$p" "$ROOT$p"
        elif [ -d "$p" ]; then
            dir=${p%/}
            [ "$(basename "$dir")" = simple ] && dir=$(dirname "$dir")   # PEP 503 pages link to ../../files
            case $dir in /|/etc|/usr|/usr/*|/var|/proc|/sys|/dev|/root|/home) continue ;; esac
            if [ ! -e "$ROOT$dir" ] || [ -z "$(ls -A "$ROOT$dir" 2>/dev/null)" ]; then
                bind "$dir" ro
            fi
        fi
    done
}

build_venv() {
    mount_project
    say "venv: pip install -r $(basename "$REQ_FILE") (Python $(in_root /usr/bin/python3 -c 'import sys; print(sys.version.split()[0])'))"
    rm -rf "$ROOT$VENV" "$ROOT/.aot-venv.stamp"
    BUILDING="installing the Python requirements"
    local t0=$SECONDS
    echo "=== venv $(date -Is)" >>"$LOG"
    prepare_pip_config
    in_root /usr/bin/python3 -m venv --system-site-packages "$VENV" >>"$LOG" 2>&1
    in_root "${PIP_ENV[@]}" PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
        "$VENV/bin/python" -m pip install -q -r "$REQ_FILE" >>"$LOG" 2>&1
    in_root env QT_QPA_PLATFORM=offscreen "$VENV/bin/python" -c "import qgis.core, pytest, pytestqt, werkzeug" >>"$LOG" 2>&1
    venv_stamp >"$ROOT/.aot-venv.stamp"     # last
    BUILDING=""
    say "venv ready in $((SECONDS - t0)) s"
}

ensure_root() {  # fd 9 is the lock file, held shared on return
    if ! flock -n -s 9; then
        say "waiting for another $NAME run that is building the root…"
        flock -s 9
    fi
    venv_ok && return 0
    if ! flock -n -x 9; then
        say "waiting for other $NAME runs to finish before updating the root…"
        flock -x 9
    fi
    if ! root_ok; then
        if extendable; then extend_root; else build_root; fi
    fi
    venv_ok || build_venv
    flock -s 9
}

run_in_root() {  # run_in_root <command...>: as the checkout's owner, in the checkout
    local uid gid user home xdg
    uid=$(stat -c %u "$PROJECT"); gid=$(stat -c %g "$PROJECT")
    user=$(getent passwd "$uid" | cut -d: -f1); user=${user:-aot}
    home=/var/lib/aot-home/$uid
    mount_project
    install -d -m 0755 -o "$uid" -g "$gid" "$ROOT$home" "$ROOT$home/.cache"
    xdg=$home/.cache/xdg-runtime
    install -d -m 0700 -o "$uid" -g "$gid" "$ROOT$xdg"
    local emulator_cache=$EMULATOR_DIR/$uid/samples
    install -d -m 0755 -o "$uid" -g "$gid" "$ROOT$EMULATOR_DIR/$uid"
    local -a envs=(PATH="$VENV/bin:/usr/local/bin:/usr/bin:/bin" VIRTUAL_ENV="$VENV"
        HOME="$home" USER="$user" LOGNAME="$user" LANG=C.UTF-8 XDG_RUNTIME_DIR="$xdg"
        QT_QPA_PLATFORM=offscreen PYTHONPYCACHEPREFIX="$home/.cache/pycache"
        AOT_EMULATOR_CACHE="$emulator_cache")
    [ -n "$SHARED" ] && envs+=(AOT_SHARED_DIR="$SHARED")
    local name
    for name in TERM COLUMNS LINES NO_COLOR FORCE_COLOR PY_COLORS PYTEST_ADDOPTS CI; do
        [ -n "${!name:-}" ] && envs+=("$name=${!name}")
    done
    while IFS='=' read -r name _; do
        case $name in AOT_EMULATOR_CACHE|AOT_SHARED_DIR) ;; *) envs+=("$name=${!name}") ;; esac
    done < <(env | grep -E '^AOT_[A-Za-z0-9_]+=' || true)
    local -a as_user=()
    [ "$uid" != 0 ] && as_user=(--userspec="$uid:$gid" --groups="$gid")
    set +e
    chroot "${as_user[@]}" "$ROOT" /usr/bin/env -i -C "$PROJECT" "${envs[@]}" "$@"
    local rc=$?
    set -e
    return "$rc"
}

inner() {
    local mode=$1; shift
    exec 9>>"$LOCK"
    trap on_inner_exit EXIT
    if [ "$mode" = remove ]; then
        flock -x 9
        assert_nothing_mounted
        say "removing $ROOT"
        rm -rf --one-file-system "$ROOT" "$LOG"
        return 0
    fi
    ensure_root
    say "root ready ($(cat "$ROOT/.aot-versions"))"
    case $mode in
        build) return 0 ;;
        test)  run_in_root "$VENV/bin/python" -m pytest "$@" ;;
        demo)  run_in_root "$VENV/bin/python" -m arcgis_emulator.demo "$@" ;;
        shell) if (($#)); then run_in_root "$@"; else run_in_root /bin/bash -i; fi ;;
    esac
}

# ---------------------------------------------------------------------------------------------
# On the host.
# ---------------------------------------------------------------------------------------------
if [ "${1:-}" = __inner ]; then
    shift
    inner "$@"
    exit $?
fi

mode=${1:-}
case $mode in
    test|demo|shell|build|remove) shift ;;
    *) usage ;;
esac

if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "needs root (chroot and mounts): run it as root"
    say "needs root (chroot and mounts): re-running with sudo"
    exec sudo -E bash "$SELF" "$LEG" "$mode" "$@"
fi
[ -f "$PKG_FILE" ] || die "$PKG_FILE is missing"

# The package list mirrors deps.sh's APT_PACKAGES: point out drift (no automatic union: package
# names differ between Debian releases now and then).
if [ -f "$PROJECT/scripts/deps.sh" ]; then
    drift=$(comm -23 <(sed -n '/^APT_PACKAGES=(/,/)/p' "$PROJECT/scripts/deps.sh" \
                        | sed 's/APT_PACKAGES=(//; s/)//; s/#.*//' | tr -s ' \t' '\n\n' | sed '/^$/d' | sort -u) \
                     <(read_packages | sort -u) | tr '\n' ' ')
    [ -z "$drift" ] || say "warning: scripts/deps.sh installs packages missing from $(basename "$PKG_FILE"): $drift"
fi

if [ "$mode" != remove ] && ! root_ok && ! command -v debootstrap >/dev/null; then
    say "installing debootstrap on the host"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null
fi

# The namespaces' first process dies with this script (setpriv --pdeathsig), unshare kills its child
# (--kill-child) and a PID namespace whose first process dies takes all its processes along.
# unshare blocks SIGINT/SIGTERM, so signals are handled here: kill the namespace and wait for it.
child=""
on_signal() {
    trap - INT TERM HUP
    echo >&2
    say "interrupted (SIG$1): stopping everything in the chroot" >&2
    if [ -n "$child" ]; then
        local init i state
        init=$(cat "/proc/$child/task/$child/children" 2>/dev/null || true)
        # unshare first (quietly; its --kill-child would do the rest), then the namespace's first
        # process: when it dies the kernel kills every other process of the namespace, and it
        # only becomes a zombie once they are all gone.
        kill -KILL "$child" $init 2>/dev/null || true
        wait "$child" 2>/dev/null || true
        for i in $init; do
            for _ in $(seq 50); do
                state=$(sed 's/.*) //' "/proc/$i/stat" 2>/dev/null | cut -c1) || true
                [ -z "$state" ] || [ "$state" = Z ] && break
                sleep 0.1
            done
        done
    fi
    exit "$2"
}
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
trap 'on_signal HUP 129' HUP

setpriv --pdeathsig KILL \
    unshare --mount --propagation private --pid --fork --kill-child \
    bash "$SELF" "$LEG" __inner "$mode" "$@" <&0 &
child=$!
rc=0
wait "$child" || rc=$?
exit "$rc"
