# gan-lightning developer commands. `make help` lists them.
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
ARGS   ?=
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install train leaderboard test bench bench-gpu lint format tensorboard clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: $(VENV)/.installed ## Create .venv and install the package with its dev extras

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

train: install ## Train the default model (DCGAN on MNIST); extra Hydra overrides via ARGS="model=cgan ..."
	$(PY) -m gan_lightning $(ARGS)

leaderboard: install ## Train and rank models, e.g. ARGS="data=fashion_mnist models=[gan,dcgan] budget.steps=3000 seeds=3"
	$(PY) -m gan_lightning.leaderboard $(ARGS)

test: install ## Run the test suite (set GAN_DATA_DIR to use real datasets in the data tests)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install ## Framework vs plain PyTorch loop per family (DCGAN, CycleGAN, StyleGAN2, TransGAN): ms/step, ratio
	$(PY) benchmarks/plain_loops.py $(ARGS)

bench-gpu: install ## The whole GPU speed table in a few minutes (sync test, plain loops, switches, loaders)
	bash benchmarks/gpu_table.sh $(PY)

lint: install ## Check style with ruff
	$(VENV)/bin/ruff check gan_lightning tests benchmarks experiments
	$(VENV)/bin/ruff format --check gan_lightning tests benchmarks experiments

format: install ## Reformat the code with ruff
	$(VENV)/bin/ruff check --fix gan_lightning tests benchmarks
	$(VENV)/bin/ruff format gan_lightning tests benchmarks

tensorboard: install ## Open TensorBoard on all runs (outputs/ and multirun/)
	$(VENV)/bin/tensorboard --logdir_spec outputs:outputs,multirun:multirun

clean: ## Remove caches and build files (keeps runs in outputs/ and multirun/)
	rm -rf .pytest_cache .ruff_cache build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
