"""FID per MNIST digit: one conditional GAN against ten per-class GANs, under one protocol.

    python experiments/04_per_class/per_class_fid.py \
        --cgan runs/04_per_class/cgan/checkpoints/last.ckpt \
        --per-class runs/04_per_class/per_class --n 1000 --out experiments/04_per_class/results

For digit k, each row runs what these two commands run (in this process, to load torch once):

    python -m gan_lightning.evaluate ckpt=<cGAN ckpt> label=k metrics=[fid,class_acc] n=1000
    python -m gan_lightning.evaluate ckpt=<per-class job>/checkpoints/last.ckpt metrics=[fid] n=1000

Both compare n generated images of digit k with the real test images of digit k (up to n of them) in
the MNIST classifier's feature space: the cGAN with every sample generated for label k, the
per-class model (trained on data.classes=[k]) whose data config already restricts the reference to k.
``--cgan`` can be given several times (e.g. an earlier step's checkpoint, to compare at equal
generator steps). Writes ``per_class_fid.md`` (the table) and ``per_class_fid.jsonl`` (every
evaluation with its protocol) into ``--out``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra


def evaluate(ckpt: Path, n: int, label: int | None = None) -> dict[str, Any]:
    """``python -m gan_lightning.evaluate ckpt=... [label=k] n=...`` in this process; its JSON as a dict."""
    from gan_lightning.evaluate import evaluate as run

    overrides = [f"ckpt={ckpt}", f"n={n}"]
    overrides += ["metrics=[fid]"] if label is None else [f"label={label}", "metrics=[fid,class_acc]"]
    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="gan_lightning.tool_conf", version_base="1.3"):
        cfg = compose(config_name="evaluate", overrides=overrides)
    return run(cfg)


def per_class_jobs(sweep_dir: Path) -> dict[int, Path]:
    """{digit: last.ckpt} of the per-class sweep's jobs, the digit read from each job's config."""
    jobs = {}
    for config in sorted(sweep_dir.glob("*/.hydra/config.yaml")):
        classes = yaml.safe_load(config.read_text())["data"]["classes"]
        ckpt = config.parent.parent / "checkpoints" / "last.ckpt"
        if classes and len(classes) == 1 and ckpt.exists():
            jobs[int(classes[0])] = ckpt
    return jobs


def table(cgan: list[dict[int, dict]], per_class: dict[int, dict], n: int) -> str:
    """The markdown table: one row per digit, then the mean over the digits."""
    head = ["digit"]
    for results in cgan:
        step = next(iter(results.values()))["generator_step"]
        head += [f"FID cGAN @ {step}", f"class_acc cGAN @ {step}"]
    steps = "/".join(str(s) for s in sorted({r["generator_step"] for r in per_class.values()}))
    head += [f"FID per-class model @ {steps}", f"called k, per-class model @ {steps}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    columns: list[list[float]] = [[] for _ in range(len(head) - 1)]
    for k in sorted(set().union(*cgan, per_class)):
        values = []
        for results in cgan:
            values += [results.get(k, {}).get("fid"), results.get(k, {}).get("class_acc")]
        values += [per_class.get(k, {}).get("fid"), _called(per_class.get(k), k)]
        for column, value in zip(columns, values, strict=True):
            if value is not None:
                column.append(value)
        lines.append(f"| {k} | " + " | ".join(_cell(v) for v in values) + " |")
    means = [sum(c) / len(c) if c else None for c in columns]
    lines.append("| mean | " + " | ".join(_cell(v) for v in means) + " |")
    protocol = next(iter(per_class.values()))["protocol"]
    lines += [
        "",
        f"Steps are generator steps. FID in the `{protocol['extractor']}` feature space: {n} generated "
        "images of digit k against the real MNIST test images of digit k (at most n). `class_acc`: the "
        "fraction of the cGAN's samples for label k that the classifier calls k; `called k`: the same "
        "fraction for the per-class model's samples (from the class histogram of the evaluation).",
    ]
    return "\n".join(lines) + "\n"


def _called(result: dict | None, k: int) -> float | None:
    """The fraction of a per-class model's samples that the classifier calls k."""
    histogram = (result or {}).get("class_histogram")
    return histogram[k] / sum(histogram) if histogram else None


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}" if value < 1 else f"{value:.1f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cgan", type=Path, action="append", default=[], help="a cGAN checkpoint")
    parser.add_argument("--per-class", type=Path, help="the per-class sweep directory")
    parser.add_argument(
        "--from-jsonl", type=Path, help="only rewrite the table from an earlier per_class_fid.jsonl"
    )
    parser.add_argument("--n", type=int, default=1000, help="generated images per digit (default 1000)")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for the table and the JSON lines")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.from_jsonl:
        records = [json.loads(line) for line in args.from_jsonl.read_text().splitlines() if line]
        write_table(records, args.n, args.out)
        return
    if not args.cgan or not args.per_class:
        parser.error("--cgan and --per-class are required (or --from-jsonl)")

    jobs = per_class_jobs(args.per_class)
    if not jobs:
        parser.error(f"no per-class job with a checkpoint under {args.per_class}")
    records = []
    for ckpt in args.cgan:
        for k in range(10):
            records.append({"model": "cgan", "digit": k, **evaluate(ckpt, args.n, label=k)})
            print(json.dumps(records[-1]), flush=True)
    for k, ckpt in sorted(jobs.items()):
        records.append({"model": "per_class", "digit": k, **evaluate(ckpt, args.n)})
        print(json.dumps(records[-1]), flush=True)
    (args.out / "per_class_fid.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    write_table(records, args.n, args.out)


def write_table(records: list[dict], n: int, out: Path) -> None:
    """Group the evaluations (cGAN: by checkpoint, in order) and write ``per_class_fid.md``."""
    cgan: dict[str, dict[int, dict]] = {}
    per_class: dict[int, dict] = {}
    for record in records:
        if record["model"] == "cgan":
            cgan.setdefault(record["ckpt"], {})[record["digit"]] = record
        else:
            per_class[record["digit"]] = record
    text = table(list(cgan.values()), per_class, n)
    (out / "per_class_fid.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
