#!/usr/bin/env bash
# Study 7: the framework's default DCGAN against the course report's plain 28x28 DCGAN loop on MNIST,
# three seeds each, same generator steps and batch; then FID / KID of both in the MNIST classifier's
# feature space (10,000 generated vs the 10,000 test images), at equal steps and at equal wall-clock.
#
#   experiments/07_dcgan_vs_tutorial/run.sh ROOT [STEPS]        # STEPS: generator steps, default 3000
#
# Needs the MNIST classifier (python -m gan_lightning.classifier data=mnist, once). On a CPU, export
# OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 first: the ms/step of both sides are compared. Runs one job at
# a time. Writes ROOT/loop_sS, ROOT/study_fw_sS (checkpoints every 100 steps), the *.json scores, then
# experiments/07_dcgan_vs_tutorial/results/ (summarize.py).
set -euo pipefail
if [[ $# -lt 1 ]]; then
    sed -n '2,11p' "$0" >&2
    exit 2
fi
root=$1
steps=${2:-3000}
python=${PYTHON:-python}
here=$(dirname "$0")
mkdir -p "$root"
for s in 0 1 2; do
    "$python" benchmarks/tutorial_dcgan.py --steps "$steps" --seed $s --out "$root/loop_s$s" --sample-every 1000
    "$python" -m gan_lightning model=dcgan data=mnist seed=$s trainer.max_steps="$steps" metrics=none \
        'callbacks.periodic_checkpoint.every_n_train_steps=${optimizer_steps:100}' \
        trainer.enable_progress_bar=false '~callbacks.progress_bar' hydra.run.dir="$root/study_fw_s$s"
done
for s in 0 1 2; do
    "$python" benchmarks/score_samples.py "$root/loop_s$s/samples.pt" | tail -1 >"$root/loop_s${s}_step${steps}.score.json"
    "$python" -m gan_lightning.evaluate ckpt="$root/study_fw_s$s/checkpoints/last.ckpt" n=10000 'metrics=[fid,kid]' \
        hydra.run.dir="$root/eval/s$s" | tail -1 >"$root/study_fw_s${s}_step${steps}.eval.json"
done
PYTHON=$python "$here/timing.sh" "$root/timing" 3 400 >"$root/timing.jsonl"  # ms/step, in alternation
step=$("$python" "$here/summarize.py" "$root" --steps "$steps" --equal-time-step)  # the loop's time for STEPS, in framework steps
for s in 0 1 2; do
    "$python" -m gan_lightning.evaluate ckpt="$root/study_fw_s$s/checkpoints/step$(printf %07d "$step").ckpt" n=10000 \
        'metrics=[fid,kid]' hydra.run.dir="$root/eval/s${s}_equal" | tail -1 >"$root/study_fw_s${s}_step${step}.eval.json"
done
"$python" "$here/summarize.py" "$root" --steps "$steps"
