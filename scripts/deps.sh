#!/bin/sh
# Install the Debian packages named on the command line that are missing.
# Runs apt-get only when something is missing, so a ready machine is untouched.
set -eu
missing=""
for p in "$@"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
echo "sluice: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "sluice: need root to install packages; run: sudo apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
