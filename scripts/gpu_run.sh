#!/usr/bin/env bash
# The gpu profile on the device machine (one GPU, no network), from the bundle that
# `python -m mlkd_utils.gpu bundle` wrote into .gpu/ on a CPU machine. Carry `.gpu` with the call;
# results come back as $OUT/results-gpu.tar.gz (unpack it at the repository root) and $OUT/gpu.log.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
if [ -d .gpu/wheels ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/wheels/*.whl
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
python3 -m mlkd_utils.gpu device --out "$OUT" 2>&1 | tee "$OUT/gpu.log"
