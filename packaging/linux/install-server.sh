#!/bin/sh
# Install the Messenger server from this folder (the unpacked .tar.gz).
#
#   sudo ./install.sh         as root: /opt/messenger-server, /usr/local/bin/messenger-server,
#                             and, where systemd runs, the service "messenger-server" with
#                             the system user "messenger", data in /var/lib/messenger and
#                             config in /etc/messenger/server.toml (kept if it exists).
#                             The service is installed but not started:
#                               systemctl enable --now messenger-server
#   ./install.sh              as a normal user: ~/.local/share/messenger-server and
#                             ~/.local/bin/messenger-server only (run it yourself).
#   ./install.sh --uninstall  removes the program and the unit; data and config are kept.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
mode=auto
action=install
for arg in "$@"; do
    case "$arg" in
        --user) mode=user ;;
        --system) mode=system ;;
        --uninstall) action=uninstall ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done
if [ "$mode" = auto ]; then
    if [ "$(id -u)" = 0 ]; then mode=system; else mode=user; fi
fi
if [ "$mode" = system ]; then
    app_dir=/opt/messenger-server
    bin_dir=/usr/local/bin
else
    app_dir="${XDG_DATA_HOME:-$HOME/.local/share}/messenger-server-app"
    bin_dir="$HOME/.local/bin"
fi
unit=/etc/systemd/system/messenger-server.service
has_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

if [ "$action" = uninstall ]; then
    if [ "$mode" = system ] && [ -f "$unit" ]; then
        if has_systemd; then systemctl disable --now messenger-server.service || true; fi
        rm -f "$unit"
        if has_systemd; then systemctl daemon-reload; fi
    fi
    rm -rf "$app_dir"
    if [ -L "$bin_dir/messenger-server" ]; then rm -f "$bin_dir/messenger-server"; fi
    echo "messenger-server removed. Data (/var/lib/messenger) and config (/etc/messenger) were kept."
    exit 0
fi

mkdir -p "$(dirname "$app_dir")"
rm -rf "$app_dir.new"
cp -R "$here/messenger-server" "$app_dir.new"
rm -rf "$app_dir"
mv "$app_dir.new" "$app_dir"
mkdir -p "$bin_dir"
ln -sfn "$app_dir/messenger-server" "$bin_dir/messenger-server"

if [ "$mode" = system ]; then
    if ! getent group messenger >/dev/null; then groupadd --system messenger; fi
    if ! getent passwd messenger >/dev/null; then
        useradd --system --gid messenger --home-dir /var/lib/messenger --no-create-home \
            --shell /usr/sbin/nologin --comment "Messenger server" messenger
    fi
    install -d -o messenger -g messenger -m 0750 /var/lib/messenger
    install -d -m 0755 /etc/messenger
    if [ ! -e /etc/messenger/server.toml ]; then
        install -m 0644 "$here/server.toml" /etc/messenger/server.toml
    fi
    sed -e "s|/usr/bin/messenger-server|$app_dir/messenger-server|" \
        "$here/messenger-server.service" > "$unit"
    chmod 644 "$unit"
    if has_systemd; then
        systemctl daemon-reload
        if systemctl is-active --quiet messenger-server.service; then
            systemctl restart messenger-server.service
        fi
    fi
    echo "messenger-server $(cat "$here/VERSION") installed in $app_dir"
    echo "Configure /etc/messenger/server.toml, then: systemctl enable --now messenger-server"
else
    echo "messenger-server $(cat "$here/VERSION") installed in $app_dir"
    echo "Run: $bin_dir/messenger-server --data-dir ~/messenger-data"
fi
