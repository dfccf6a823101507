#!/usr/bin/env bash
# Study 7: ms/step of both sides, measured in alternation (loop, framework, loop, framework, ...) so
# that both see the same load on a shared machine. Prints one JSON line per run.
#
#   experiments/07_dcgan_vs_tutorial/timing.sh ROOT [REPEATS=3] [STEPS=400]
#
# Loop: its own timer after 20 warm-up steps. Framework: time between its step-100 and step-STEPS
# checkpoints. Both include data loading; neither includes start-up (whole-command wall time is
# printed as well).
set -euo pipefail
root=$1
repeats=${2:-3}
steps=${3:-400}
python=${PYTHON:-python}
mkdir -p "$root"
for r in $(seq 1 "$repeats"); do
    t0=$(date +%s.%N)
    "$python" benchmarks/tutorial_dcgan.py --steps "$steps" --seed "$r" --out "$root/loop_$r" --n-samples 500 >/dev/null
    t1=$(date +%s.%N)
    ms=$("$python" -c "import json; print(json.load(open('$root/loop_$r/timing.json'))['ms_per_step'])")
    echo "{\"side\": \"loop\", \"repeat\": $r, \"ms_per_step\": $ms, \"command_s\": $("$python" -c "print(round($t1 - $t0, 2))")}"
    t0=$(date +%s.%N)
    "$python" -m gan_lightning model=dcgan data=mnist seed="$r" trainer.max_steps="$steps" metrics=none \
        'callbacks.periodic_checkpoint.every_n_train_steps=${optimizer_steps:100}' \
        trainer.enable_progress_bar=false '~callbacks.progress_bar' hydra.run.dir="$root/fw_$r" >/dev/null 2>&1
    t1=$(date +%s.%N)
    ms=$("$python" -c "
import os
c = '$root/fw_$r/checkpoints/step%07d.ckpt'
print((os.stat(c % $steps).st_mtime - os.stat(c % 100).st_mtime) * 1000 / ($steps - 100))")
    echo "{\"side\": \"framework\", \"repeat\": $r, \"ms_per_step\": $ms, \"command_s\": $("$python" -c "print(round($t1 - $t0, 2))")}"
done
