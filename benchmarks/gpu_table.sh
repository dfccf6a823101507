#!/usr/bin/env bash
# The speed table on one GPU in a few minutes (README "Speed"): the sync test, framework against plain
# loops per family at the GPU sizes, the GPU switches, the new families' table and one DCGAN epoch.
#   bash benchmarks/gpu_table.sh [PYTHON]        (default .venv/bin/python; GAN_DATA_DIR for MNIST)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
export PYTHONPATH="benchmarks${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
echo "== the step never synchronizes (torch.cuda.set_sync_debug_mode('error'))"
"$PY" -m pytest -q -p no:cacheprovider tests/core/test_sync_free_step.py -k never_synchronizes
echo "== framework / plain loop per family (CUDA sizes)"
"$PY" benchmarks/plain_loops.py --device cuda --steps 32 --warmup 16 --repeats 3
echo "== DCGAN, one epoch with data.on_device=true"
"$PY" benchmarks/throughput.py --device cuda --epoch
echo "== DCGAN: framework / plain loop on real MNIST, and each GPU switch"
"$PY" benchmarks/throughput.py --device cuda --steps 200 --repeats 3
echo "== the new families: fp32 (TF32) / bf16 / compile"
"$PY" benchmarks/families.py --device cuda --repeats 3
echo "== the data loaders at their CUDA defaults (beside the steps' images/s above)"
DATA=${GAN_DATA_DIR:-./data}
"$PY" benchmarks/loader.py --batches 200 data=image_folder "data.path=$DATA/anime-faces" data.image_size=64
"$PY" benchmarks/loader.py --batches 400 data=unpaired "data.path=$DATA/horse2zebra-128" data.image_size=128 data.batch_size=4
"$PY" benchmarks/loader.py --batches 200 data=mnist
