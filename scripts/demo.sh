#!/bin/sh
# `make demo`: the quickstart job through the real dataplane on the bundled
# capture. Runs from the source root so the job's relative paths resolve.
set -eu
build=${1:-build}
cd "$(dirname "$0")/.."
echo "sluice: running configs/jobs/demo.yaml: clicks per user in 10 s event-time windows,"
echo "sluice: read from configs/samples/clicks.pcap through DPDK's net_pcap port"
exec "$build/dataplane/sluice-dp" --job configs/jobs/demo.yaml
