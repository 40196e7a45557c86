# Sourced by scripts/test.sh and scripts/test-vscode.sh: apt_install PACKAGE... installs the
# Debian packages that are missing (through sudo when not root), running `apt-get update`
# once per test run (HF_LSP_APT_UPDATED tells the later scripts it ran).
# Extra apt-get options go before the packages, e.g. apt_install --no-install-recommends emacs-nox.
apt_install() {
    local options=() missing=() p
    while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do options+=("$1"); shift; done
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    echo "installing ${missing[*]}"
    local sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    if [ -z "${HF_LSP_APT_UPDATED:-}" ]; then
        "${sudo[@]}" apt-get update -q
        export HF_LSP_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q "${options[@]}" "${missing[@]}"
}
