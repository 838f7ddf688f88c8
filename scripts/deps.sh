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
# Build and test tools must not start daemons (Debian's prometheus package
# would start a server for the promtool we want): deny service starts while
# installing, unless the machine already has a policy of its own.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e $policy ]; then
	printf '#!/bin/sh\nexit 101\n' > $policy && chmod +x $policy && own_policy=1
fi
rc=0
apt-get update -q || rc=$?
# shellcheck disable=SC2086
[ $rc -ne 0 ] || apt-get install -y -q --no-install-recommends $missing || rc=$?
[ $own_policy -eq 0 ] || rm -f $policy
exit $rc
