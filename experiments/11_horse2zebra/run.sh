#!/usr/bin/env bash
# Study 11: CycleGAN, CycleGAN without the identity loss, and DiscoGAN on horse2zebra at 64 px.
#   experiments/11_horse2zebra/run.sh OUT_DIR [STEPS_CYCLEGAN] [STEPS_DISCOGAN] [extra Hydra overrides...]
# Without step counts it runs the full budget of conf/experiment/horse2zebra.yaml (a GPU job).
set -euo pipefail
out=${1:?usage: run.sh OUT_DIR [STEPS_CYCLEGAN] [STEPS_DISCOGAN] [overrides...]}
cycle_steps=${2:-266800}
disco_steps=${3:-200000}
shift $(( $# < 3 ? $# : 3 ))
quiet=(trainer.enable_progress_bar=false '~callbacks.progress_bar')
python -m gan_lightning experiment=horse2zebra trainer.max_steps="$cycle_steps" \
    hydra.run.dir="$out/cyclegan" "${quiet[@]}" "$@"
python -m gan_lightning experiment=horse2zebra trainer.max_steps="$cycle_steps" model.identity_weight=0 \
    hydra.run.dir="$out/cyclegan_no_identity" "${quiet[@]}" "$@"
# DiscoGAN as its authors trained it: batch 64 (BatchNorm), constant learning rate.
python -m gan_lightning experiment=horse2zebra model=discogan scheduler=none data.batch_size=64 \
    trainer.max_steps="$disco_steps" hydra.run.dir="$out/discogan" "${quiet[@]}" "$@"
