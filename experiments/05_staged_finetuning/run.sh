#!/usr/bin/env bash
# Study 5: DCGAN on MNIST in four stages; each stage starts from the previous stage's last.ckpt with
# init_from= (G and D weights, fresh Adam optimizers). Then one report over the four stages.
#
#   experiments/05_staged_finetuning/run.sh ROOT [Hydra overrides for every stage ...]
#   experiments/05_staged_finetuning/run.sh outputs/finetune                       # full budget (GPU)
#   experiments/05_staged_finetuning/run.sh runs/05_staged_finetuning \
#       trainer.max_steps=400 metrics.every_n_steps=400 \
#       trainer.enable_progress_bar=false '~callbacks.progress_bar'               # reduced (CPU)
#
# Stages (lr_g = lr_d, Adam betas [beta1, 0.999]); stage 1's values are experiment=dcgan_finetune's.
#   stage1: lr 2e-4, beta1 0.5   stage2: lr 1e-4, beta1 0.3   stage3: lr 1e-4, beta1 0.5   stage4: lr 1e-5, beta1 0.5
# Stage i runs with seed=i: with one seed for all, every stage would replay the same data order and
# the same training noise from its step 0 (a run's shuffling and noise are seeded from seed and step).
set -euo pipefail
if [[ $# -lt 1 ]]; then
    sed -n '2,9p' "$0" >&2
    exit 2
fi
root=$1
shift
python=${PYTHON:-python}
stages=("2e-4 0.5" "1e-4 0.3" "1e-4 0.5" "1e-5 0.5")
previous=""
for i in 1 2 3 4; do
    read -r lr beta1 <<<"${stages[$((i - 1))]}"
    dir="$root/stage$i"
    init=()
    [[ -n $previous ]] && init=("init_from=$previous/checkpoints/last.ckpt")
    echo "== stage $i: lr $lr, beta1 $beta1 -> $dir" >&2
    "$python" -m gan_lightning experiment=dcgan_finetune hydra.run.dir="$dir" \
        optimizer.lr_g="$lr" optimizer.lr_d="$lr" "optimizer.betas=[$beta1,0.999]" seed="$i" "${init[@]}" "$@"
    previous=$dir
done
"$python" -m gan_lightning.report "$root"
