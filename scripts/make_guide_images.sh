#!/usr/bin/env bash
# Regenerates the pictures of docs/guide.md with the project's own commands (run from the
# repository root after building): a timeline, a sweep plot.
set -euo pipefail
out=docs/images
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A BERT-base encoder layer (sequence 128) on the 910B1: its timeline from the first kernel,
# a cube core (0) and a vector core (24).
./build/npusim run --platform ascend910b1 --workload bert_base_s128 --timing-only --quiet \
  --timeline "$tmp/bert.json"
python3 scripts/timeline_svg.py "$tmp/bert.json" "$out/timeline_bert_s128.svg" --cores 0,24

# The shipped BERT sweep: cores x GM bandwidth, one plot per metric.
./build/npusim sweep configs/sweeps/bert_cores_bandwidth.yaml --jobs 2 --out "$tmp/sweep" >/dev/null
cp "$tmp/sweep/plots/summary_device_span_ns.svg" "$out/sweep_bert_cores_bandwidth.svg"
sed "s|$tmp/sweep|sweeps/bert_cores_bandwidth|" "$tmp/sweep/summary.txt" >"$out/sweep_bert_cores_bandwidth.txt"
echo "wrote $out/timeline_bert_s128.svg, $out/sweep_bert_cores_bandwidth.svg"
