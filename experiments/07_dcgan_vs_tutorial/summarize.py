"""Collect study 07's numbers into results/ (JSON, CSV, side-by-side sample grids).

    python experiments/07_dcgan_vs_tutorial/summarize.py ROOT [--steps 3000] [--equal-time-step]

ROOT holds, per seed S: ``loop_sS/`` (``benchmarks/tutorial_dcgan.py --out``, with ``timing.json``),
``loop_sS_stepN.score.json`` (``benchmarks/score_samples.py`` on its samples after N steps),
``study_fw_sS/`` (a ``python -m gan_lightning`` run with a checkpoint every 100 generator steps),
``study_fw_sS_stepN.eval.json`` (``python -m gan_lightning.evaluate`` on its step-N checkpoint:
STEPS, the equal-wall-clock step of ``equal_time_step``, any other), optionally ``timing.jsonl``
(``timing.sh``), ``inv*.eval.json`` and ``old*.eval.json`` (investigation runs, old default).

The framework's ms/step is the time between its step-100 and last periodic checkpoints (per step)
(no start-up; data loading, sample grids and checkpoint writes included); the loop's is measured in
the loop after 20 warm-up steps (data loading included).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

SEEDS = (0, 1, 2)
STEPS = 3000
HERE = Path(__file__).parent / "results"
LOOP, FRAMEWORK = "tutorial loop", "gan_lightning dcgan (plan v2)"


def fw_ms_per_step(run: Path) -> float:
    ckpts = run / "checkpoints"
    first, last = ckpts / "step0000100.ckpt", ckpts / f"step{STEPS:07d}.ckpt"
    return (last.stat().st_mtime - first.stat().st_mtime) * 1000 / (STEPS - 100)


def timing_ratio(root: Path) -> tuple[float, str]:
    """The loop's ms/step over the framework's: the median over the alternating runs of timing.sh
    (ROOT/timing.jsonl) when there, else the ratio of the medians over the three training runs."""
    path = root / "timing.jsonl"
    if path.exists():
        runs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        loop = [r["ms_per_step"] for r in runs if r["side"] == "loop"]
        fw = [r["ms_per_step"] for r in runs if r["side"] == "framework"]
        return statistics.median(a / b for a, b in zip(loop, fw, strict=True)), "alternating runs (timing.sh)"
    loop = statistics.median(
        json.loads((root / f"loop_s{s}/timing.json").read_text())["ms_per_step"] for s in SEEDS
    )
    fw = statistics.median(fw_ms_per_step(root / f"study_fw_s{s}") for s in SEEDS)
    return loop / fw, "training runs"


def equal_time_step(root: Path) -> int:
    """The framework's step (a multiple of 100, rounded down) that costs what the loop's STEPS cost."""
    return int(STEPS * timing_ratio(root)[0]) // 100 * 100


def load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def mean_std(values: list[float]) -> dict:
    return {"mean": statistics.mean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0}


def main(root: Path) -> None:
    HERE.mkdir(exist_ok=True)
    rows = []
    for s in SEEDS:
        timing = load(root / f"loop_s{s}/timing.json")
        for path in sorted(root.glob(f"loop_s{s}_step*.score.json")):
            score = load(path)
            step = int(path.name.split("_step")[1].split(".")[0])
            rows.append(
                {
                    "side": LOOP,
                    "seed": s,
                    "step": step,
                    "fid": score["fid"],
                    "kid": score["kid"],
                    "ms_per_step": timing["ms_per_step"],
                    "class_histogram": score["class_histogram"],
                }
            )
    for s in SEEDS:
        run = root / f"study_fw_s{s}"
        for path in sorted(root.glob(f"study_fw_s{s}_step*.eval.json")):
            ev = load(path)
            rows.append(
                {
                    "side": FRAMEWORK,
                    "seed": s,
                    "step": ev["generator_step"],
                    "fid": ev["fid"],
                    "kid": ev["kid"],
                    "ms_per_step": fw_ms_per_step(run),
                    "class_histogram": ev["class_histogram"],
                }
            )
    investigation = {}
    for path in sorted(root.glob("inv*.eval.json")) + sorted(root.glob("*old*.eval.json")):
        ev = load(path)
        investigation[path.name.removesuffix(".eval.json")] = {
            "step": ev["generator_step"],
            "fid": ev["fid"],
            "kid": ev["kid"],
            "class_histogram": ev["class_histogram"],
        }
    summary = {}
    for side, step in sorted({(r["side"], r["step"]) for r in rows}):
        chosen = [r for r in rows if r["side"] == side and r["step"] == step]
        summary[f"{side} @ {step}"] = {
            "n_seeds": len(chosen),
            "fid": mean_std([r["fid"] for r in chosen]),
            "kid": mean_std([r["kid"] for r in chosen]),
            "ms_per_step": mean_std([r["ms_per_step"] for r in chosen]),
        }
    ratio, source = timing_ratio(root)
    timing = {"loop_ms_over_framework_ms": ratio, "from": source, "equal_time_step": equal_time_step(root)}
    if (root / "timing.jsonl").exists():
        timing["alternating_runs"] = [
            json.loads(x) for x in (root / "timing.jsonl").read_text().splitlines() if x
        ]
    protocol = (
        "classifier features (gan_lightning MNIST classifier), 10,000 generated vs 10,000 MNIST test images"
    )
    out = {
        "protocol": protocol,
        "timing": timing,
        "summary": summary,
        "runs": rows,
        "investigation_and_old_default": investigation,
    }
    (HERE / "results.json").write_text(json.dumps(out, indent=1) + "\n")
    with open(HERE / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, ["side", "seed", "step", "fid", "kid", "ms_per_step", "class_histogram"])
        writer.writeheader()
        writer.writerows(rows)
    fig, axes = plt.subplots(2, len(SEEDS), figsize=(3.2 * len(SEEDS), 6.8))
    for j, s in enumerate(SEEDS):
        grids = [
            (root / f"loop_s{s}/grid.png", f"tutorial loop, seed {s}"),
            (root / f"study_fw_s{s}/samples/step_{STEPS:07d}.png", f"gan_lightning, seed {s}"),
        ]
        for i, (path, title) in enumerate(grids):
            axes[i, j].axis("off")
            if path.exists():
                axes[i, j].imshow(mpimg.imread(path), cmap="gray")
            axes[i, j].set_title(f"{title}\n{STEPS} generator steps", fontsize=9)
    fig.tight_layout()
    fig.savefig(HERE / "grids_side_by_side.png", dpi=110)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("root", type=Path)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--equal-time-step", action="store_true", help="print the equal-wall-clock step")
    args = parser.parse_args()
    STEPS = args.steps
    if args.equal_time_step:
        print(equal_time_step(args.root))
    else:
        main(args.root)
