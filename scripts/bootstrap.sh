#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of npusim from Debian packages.
# Idempotent: packages already present are left alone, and apt is only asked when one is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libsystemc-dev libyaml-cpp-dev libboost-test-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libopenblas-serial-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  pybind11-dev python3-dev python3-matplotlib python3-onnx
  clang-format python3 gnuplot-nox
  chromium-headless-shell
  slurmctld slurmd slurm-client munge
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "bootstrap: all ${#packages[@]} packages present"
  exit 0
fi

echo "bootstrap: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
