#!/bin/sh
# Install the Messenger desktop app from this folder (the unpacked .tar.gz).
#
#   ./install.sh            as a normal user: for you only (~/.local)
#   sudo ./install.sh       as root: for everyone (/opt/messenger, /usr/local)
#   ./install.sh --uninstall  (or sudo ...) removes what the same kind of install put there
#
# Options --user / --system choose explicitly. Your chats and settings (in
# ~/.local/share/messenger) are never touched, not even by --uninstall.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
mode=auto
action=install
for arg in "$@"; do
    case "$arg" in
        --user) mode=user ;;
        --system) mode=system ;;
        --uninstall) action=uninstall ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done
if [ "$mode" = auto ]; then
    if [ "$(id -u)" = 0 ]; then mode=system; else mode=user; fi
fi
if [ "$mode" = system ]; then
    app_dir=/opt/messenger
    bin_dir=/usr/local/bin
    share=/usr/local/share
else
    app_dir="${XDG_DATA_HOME:-$HOME/.local/share}/messenger-app"
    bin_dir="$HOME/.local/bin"
    share="${XDG_DATA_HOME:-$HOME/.local/share}"
fi
desktop="$share/applications/messenger.desktop"
sizes="16x16 22x22 24x24 32x32 48x48 64x64 96x96 128x128 256x256 512x512"

refresh_menus() {
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$share/applications" 2>/dev/null || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$share/icons/hicolor/index.theme" ]; then
        gtk-update-icon-cache -q -t -f "$share/icons/hicolor" 2>/dev/null || true
    fi
}

if [ "$action" = uninstall ]; then
    rm -rf "$app_dir"
    rm -f "$desktop"
    if [ -L "$bin_dir/messenger" ]; then rm -f "$bin_dir/messenger"; fi
    for size in $sizes; do rm -f "$share/icons/hicolor/$size/apps/messenger.png"; done
    rm -f "$share/icons/hicolor/scalable/apps/messenger.svg"
    refresh_menus
    echo "Messenger removed ($mode install). Your chats in ~/.local/share/messenger were kept."
    exit 0
fi

# The bundle goes in as a whole; a previous version is replaced.
mkdir -p "$(dirname "$app_dir")"
rm -rf "$app_dir.new"
cp -R "$here/messenger" "$app_dir.new"
rm -rf "$app_dir"
mv "$app_dir.new" "$app_dir"
mkdir -p "$bin_dir"
ln -sfn "$app_dir/messenger" "$bin_dir/messenger"

# Menu entry: Exec names the installed program by its full path, so it works even when
# ~/.local/bin is not on PATH.
mkdir -p "$share/applications"
sed -e "s|^Exec=messenger|Exec=$app_dir/messenger|" \
    -e "s|^TryExec=messenger|TryExec=$app_dir/messenger|" \
    "$here/share/applications/messenger.desktop" > "$desktop"
chmod 644 "$desktop"
for size in $sizes; do
    mkdir -p "$share/icons/hicolor/$size/apps"
    cp "$here/share/icons/hicolor/$size/apps/messenger.png" "$share/icons/hicolor/$size/apps/"
done
mkdir -p "$share/icons/hicolor/scalable/apps"
cp "$here/share/icons/hicolor/scalable/apps/messenger.svg" "$share/icons/hicolor/scalable/apps/"
refresh_menus

echo "Messenger $(cat "$here/VERSION") installed ($mode): $app_dir"
echo "Start it from the applications menu, or run: $bin_dir/messenger"
