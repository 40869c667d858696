#!/usr/bin/env bash
# lvgw on a box: `make install | uninstall | rollback | credentials | wheel` run this
# (docs/install.md says when to use which). Under DESTDIR the tree is laid out there,
# and nothing is enabled, started or stopped.
#
#   /opt/lvgw            the gateway: a virtualenv with the wheel installed
#   /opt/lvgw.prev       the one before the last install (make rollback swaps them)
#   /etc/lvgw/site.yaml  the site file, from config/site.example.yaml when absent
#   /etc/lvgw/credentials/   secret files (root only), handed to the service
#   /etc/systemd/system/lvgw.service (+ lvgw.service.d/credentials.conf)
#   /usr/local/bin/lvgw  -> /opt/lvgw/bin/lvgw
#
# Environment: DESTDIR; WHEEL (a built wheel to install instead of building one from
# this tree); PIP_OPTS (more options for pip install, e.g. --no-index --find-links DIR
# for a box without an index); PYTHON (python3); PURGE=1 (uninstall: config and state too).
set -euo pipefail

SOURCE=$(cd "$(dirname "$0")/.." && pwd)
DESTDIR=${DESTDIR:-}
DESTDIR=${DESTDIR%/}
PREFIX=/opt/lvgw
CONFDIR=/etc/lvgw
UNITDIR=/etc/systemd/system
UNIT=lvgw.service
BINLINK=/usr/local/bin/lvgw
STATEDIRS=(/var/lib/lvgw /var/lib/private/lvgw)  # DynamicUser= keeps state in private/
PYTHON=${PYTHON:-python3}
WHEEL=${WHEEL:-}
PIP_OPTS=${PIP_OPTS:-}
PURGE=${PURGE:-}

say() { echo "lvgw: $*"; }
die() { echo "lvgw: $*" >&2; exit 1; }
live() { [ -z "$DESTDIR" ]; }

need_root() {
  if live && [ "$(id -u)" != 0 ]; then die "$1 needs root: sudo make $1"; fi
}

# The service's state before a change, to put it back afterwards.
was_active=no
stop_service() {
  if live && systemctl is-active --quiet "$UNIT"; then
    was_active=yes
    say "stopping $UNIT"
    systemctl stop "$UNIT"
  fi
}

version_in() {  # the lvgw version a venv holds
  local info
  info=$(find "$1"/lib -maxdepth 3 -name 'lvgw-*.dist-info' -print -quit 2>/dev/null)
  info=${info##*/lvgw-}
  echo "${info%.dist-info}"
}

build_wheel() {  # build_wheel PYTHON_WITH_PIP OUTDIR: a wheel of this tree into OUTDIR
  local python=$1 out=$2 copy
  copy=$(mktemp -d)
  # A copy without the developer's venv and build leftovers, so that nothing is
  # written into the checkout (which may belong to another user than root).
  tar -C "$SOURCE" --exclude=./.venv --exclude=./.git --exclude=./build --exclude=./dist \
    --exclude='*.egg-info' --exclude=__pycache__ -cf - . | tar -C "$copy" -xf -
  "$python" -m pip wheel --no-deps -q -w "$out" "$copy"
  rm -rf "$copy"
}

relocate() {  # relocate BUILT_AT FINAL: a venv built in one place, to run from another
  local built=$1 final=$2
  [ "$built" = "$final" ] && return
  # Scripts' #! lines, activate scripts and pyvenv.cfg name the venv's directory.
  grep -rlIF --null "$built" "$built/bin" "$built/pyvenv.cfg" | xargs -0 -r sed -i "s|$built|$final|g"
}

write_credentials() {  # one LoadCredential= per file of /etc/lvgw/credentials
  local dir=$DESTDIR$CONFDIR/credentials dropin=$DESTDIR$UNITDIR/$UNIT.d/credentials.conf name
  install -d -m 0755 "$(dirname "$dropin")"
  {
    echo "# Written by make install / make credentials from the files of $CONFDIR/credentials/:"
    echo "# each is \${CREDENTIALS_DIRECTORY}/<name> to the service. Not to be edited by hand."
    echo "[Service]"
    for path in "$dir"/*; do
      [ -f "$path" ] || continue
      name=${path##*/}
      if [[ ! $name =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then
        echo "lvgw: skipped credential '$name': use letters, digits, '.', '_' and '-'" >&2
        continue
      fi
      echo "LoadCredential=$name:$CONFDIR/credentials/$name"
    done
  } >"$dropin.new"
  mv "$dropin.new" "$dropin"
}

install_unit() {  # the unit the gateway in /opt/lvgw came with
  install -d -m 0755 "$DESTDIR$UNITDIR"
  install -m 0644 "$DESTDIR$PREFIX/share/lvgw/$UNIT" "$DESTDIR$UNITDIR/$UNIT"
  write_credentials
}

start_again() {
  live || return 0
  systemctl daemon-reload
  if [ "$was_active" = yes ]; then
    say "starting $UNIT"
    systemctl start "$UNIT"
  fi
}

cmd_install() {
  need_root install
  local stage=$DESTDIR$PREFIX.new
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
  rm -rf "$stage"
  "$PYTHON" -m venv "$stage"
  if [ -z "$WHEEL" ]; then
    say "building the wheel"
    build_wheel "$stage/bin/python" "$WORK"
    WHEEL=$(ls "$WORK"/lvgw-*.whl)
  fi
  say "installing $(basename "$WHEEL") into $PREFIX"
  # shellcheck disable=SC2086  # PIP_OPTS is a list of options
  "$stage/bin/python" -m pip install -q --no-compile $PIP_OPTS "$WHEEL"
  install -d "$stage/share/lvgw" "$stage/share/doc/lvgw"
  install -m 0644 "$SOURCE/systemd/$UNIT" "$stage/share/lvgw/$UNIT"
  install -m 0644 "$SOURCE/docs/install.md" "$stage/share/doc/lvgw/install.md"
  relocate "$stage" "$PREFIX"
  # Compiled now, under the final paths: the service cannot write to /opt (ProtectSystem).
  "$stage/bin/python" -m compileall -q -s "$stage" -p "$PREFIX" "$stage/lib" >/dev/null

  stop_service
  if [ -d "$DESTDIR$PREFIX" ]; then
    rm -rf "$DESTDIR$PREFIX.prev"
    mv "$DESTDIR$PREFIX" "$DESTDIR$PREFIX.prev"
    say "kept the previous version ($(version_in "$DESTDIR$PREFIX.prev")) in $PREFIX.prev"
  fi
  mv "$stage" "$DESTDIR$PREFIX"
  install -d -m 0755 "$DESTDIR$(dirname "$BINLINK")"
  ln -sfn "$PREFIX/bin/lvgw" "$DESTDIR$BINLINK"

  install -d -m 0755 "$DESTDIR$CONFDIR"
  install -d -m 0700 "$DESTDIR$CONFDIR/credentials"
  if [ -e "$DESTDIR$CONFDIR/site.yaml" ]; then
    say "kept $CONFDIR/site.yaml"
  else
    install -m 0644 "$SOURCE/config/site.example.yaml" "$DESTDIR$CONFDIR/site.yaml"
    say "wrote $CONFDIR/site.yaml from the example: edit it for this site"
  fi
  install_unit
  if live; then
    systemctl daemon-reload
    systemctl enable "$UNIT"
  fi
  start_again
  say "installed $(version_in "$DESTDIR$PREFIX")"
  if live && [ "$was_active" = no ]; then
    say "check the site file, then start it: lvgw check-config -c $CONFDIR/site.yaml && systemctl start $UNIT"
  fi
}

cmd_rollback() {
  need_root rollback
  [ -d "$DESTDIR$PREFIX.prev" ] || die "no previous version in $PREFIX.prev"
  stop_service
  mv "$DESTDIR$PREFIX" "$DESTDIR$PREFIX.swap"
  mv "$DESTDIR$PREFIX.prev" "$DESTDIR$PREFIX"
  mv "$DESTDIR$PREFIX.swap" "$DESTDIR$PREFIX.prev"
  install_unit
  start_again
  say "rolled back to $(version_in "$DESTDIR$PREFIX"); $(version_in "$DESTDIR$PREFIX.prev") is in $PREFIX.prev (make rollback again returns to it)"
}

cmd_credentials() {
  need_root credentials
  write_credentials
  if live; then
    systemctl daemon-reload
    say "credentials wired; they reach the service at its next start: systemctl restart $UNIT"
  fi
}

cmd_uninstall() {
  need_root uninstall
  if live && systemctl cat "$UNIT" >/dev/null 2>&1; then
    systemctl disable --now "$UNIT" || true
  fi
  rm -rf "$DESTDIR$UNITDIR/$UNIT" "$DESTDIR$UNITDIR/$UNIT.d"
  rm -rf "$DESTDIR$PREFIX" "$DESTDIR$PREFIX.prev" "$DESTDIR$PREFIX.new"
  if [ "$(readlink "$DESTDIR$BINLINK" 2>/dev/null)" = "$PREFIX/bin/lvgw" ]; then
    rm -f "$DESTDIR$BINLINK"
  fi
  if live; then systemctl daemon-reload; fi
  if [ "$PURGE" = 1 ]; then
    rm -rf "$DESTDIR$CONFDIR"
    for dir in "${STATEDIRS[@]}"; do rm -rf "$DESTDIR$dir"; done
    say "removed lvgw, its configuration and its state"
  else
    say "removed lvgw; kept $CONFDIR and ${STATEDIRS[0]} (make uninstall PURGE=1 removes them)"
  fi
}

cmd_wheel() {
  install -d "$SOURCE/dist"
  build_wheel "$PYTHON" "$SOURCE/dist"
  ls "$SOURCE"/dist/lvgw-*.whl
}

case "${1:-}" in
  install) cmd_install ;;
  uninstall) cmd_uninstall ;;
  rollback) cmd_rollback ;;
  credentials) cmd_credentials ;;
  wheel) cmd_wheel ;;
  *) die "usage: $0 install|uninstall|rollback|credentials|wheel" ;;
esac
