#!/bin/sh
# Reserve 2 MiB hugepages for the dataplane where we can. Never fails: without
# hugepages sluice-dp falls back to --no-huge and says so.
want=${SLUICE_HUGEPAGES:-512}
nr=/proc/sys/vm/nr_hugepages
have=$(cat $nr 2>/dev/null || echo 0)
if [ "$have" -lt "$want" ] && [ -w $nr ]; then
	echo "$want" > $nr 2>/dev/null || true
fi
if ! grep -qs ' /dev/hugepages hugetlbfs ' /proc/mounts && [ "$(id -u)" -eq 0 ]; then
	mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || true
fi
free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
echo "sluice: hugepages free: ${free:-0} x 2 MiB"
exit 0
