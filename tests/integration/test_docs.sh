#!/bin/bash
# Description: the documentation stays true. Every job in docs/job-spec.md
# and in configs/jobs/ must validate with `sluice-dp --validate` (which
# loads the plugins a job names: an example's build/plugins is read as
# this build's plugins directory).
. "$(dirname "$0")/lib.sh"

awk -v dir="$T" '
	/^```yaml$/ { n++; f = sprintf("%s/doc-%02d.yaml", dir, n); inb = 1; next }
	/^```$/ { inb = 0; next }
	inb { print > f }
' docs/job-spec.md
n=0
for f in "$T"/doc-*.yaml configs/jobs/*.yaml; do
	sed -e "s|dir: build/plugins|dir: $SLUICE_BUILD/plugins|" "$f" > "$T/job.yaml"
	"$DP" --validate --job "$T/job.yaml" > /dev/null 2> "$T/err" || { cat "$T/err"; fail "$f does not validate"; }
	n=$((n + 1))
done
[ "$n" -ge 5 ] || fail "found only $n jobs to check"
echo "ok: $n documented and shipped jobs validate"
