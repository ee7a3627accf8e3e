# gan-course tasks. The README's Quick start is `make train` then `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
WEB    := site/node_modules/.installed
PRESET ?= cpu

.PHONY: help train results results-bench test test-gpu-shapes lab strip lock clean materials slides site web-assets

help:
	@echo "make train   create .venv, install the pinned dependencies, train the DCGAN on MNIST (PRESET=$(PRESET))"
	@echo "make test    the whole test suite, offline: tests/ at the smoke preset, every notebook at the gpu preset's shapes for one step per loop"
	@echo "make results  train both MNIST recipes at the cpu preset and rewrite README's numbers from results/cpu/ (maintainers)"
	@echo "make results-bench  run the benchmarks README quotes and rewrite its benchmark numbers from results/cpu/ (maintainers)"
	@echo "make test-gpu-shapes  only the notebooks (nbval at the gpu preset's shapes, one step per loop; part of make test)"
	@echo "make lab     open the notebooks in JupyterLab"
	@echo "make materials  Anki deck, flashcard CSV and every lesson's slides in build/materials/ (offline)"
	@echo "make slides  slides with outputs: runs every notebook first (PRESET=$(PRESET))"
	@echo "make site    the course website in build/site/$(PRESET)/html: lessons with outputs, flashcards, slides (PRESET=$(PRESET))"
	@echo "make web-assets  reveal.js, MathJax, RequireJS, jQuery for offline slides and the site (npm ci in site/)"
	@echo "make strip   remove outputs from the notebooks before committing"
	@echo "make lock    re-pin requirements.txt from requirements.in"

# uv installs the pinned set from PyPI in about 10 s where pip takes about a minute; where uv cannot
# (no uv wheel for the platform, or an index that only pip's configuration knows), pip does it.
# --compile-bytecode writes the .pyc files at install, as pip does by default: without them, and with
# PYTHONDONTWRITEBYTECODE set (as in many containers), every process that imports
# TensorFlow compiles it from source again, about 8 CPU-seconds each (the test suite starts dozens).
UV := uv==0.13.10

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "gan-course needs Python 3.11 or newer: make PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(UV) && $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.txt \
	  || { echo "uv could not install requirements.txt: installing it with pip instead (about a minute)"; \
	       $(BIN)/python -m pip install --quiet --upgrade pip && $(BIN)/python -m pip install --quiet -r requirements.txt; }
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

train: $(STAMP)
	$(BIN)/python -m gan_course train --preset $(PRESET)

# README's numbers for make train: both MNIST recipes at the cpu preset, recorded in results/cpu/
# (gan_course/teaching/results.py), then README's results blocks rewritten from that record.
RESULTS_RUNS = outputs/results
results: $(STAMP)
	$(BIN)/python -m gan_course train --preset cpu --fresh --out $(RESULTS_RUNS)/fast
	$(BIN)/python -m gan_course train --preset cpu --fresh --recipe dcgan2015 --out $(RESULTS_RUNS)/dcgan2015
	$(BIN)/python -m gan_course.teaching.results record $(RESULTS_RUNS)/fast/metrics.json make_train
	$(BIN)/python -m gan_course.teaching.results record $(RESULTS_RUNS)/dcgan2015/metrics.json make_train_dcgan2015
	$(BIN)/python -m gan_course.teaching.results update-readme

# README's benchmark numbers: the digits race, the speed ratios and two workers against one process,
# each recorded in results/cpu/bench_*.json, then README's benchmark blocks rewritten (about 15 min
# on 2 cores; run it on an idle machine: README quotes its wall times).
BENCH_RUNS = outputs/bench/results
results-bench: $(STAMP)
	$(BIN)/python -m gan_course.bench.quality --max-seconds 300 --out $(BENCH_RUNS)/race_digits.json
	$(BIN)/python -m gan_course.bench --skip-quality --out $(BENCH_RUNS)/speed.json
	$(BIN)/python -m gan_course.bench.multiworker --out $(BENCH_RUNS)/multiworker.json
	$(BIN)/python -m gan_course.bench.quality --race faces --max-seconds 360 --out $(BENCH_RUNS)/quality_faces.json
	for name in race_digits speed multiworker quality_faces; do \
	  $(BIN)/python -m gan_course.teaching.results record-bench $(BENCH_RUNS)/$$name.json $$name || exit 1; done
	$(BIN)/python -m gan_course.teaching.results update-readme

# Two worker processes (pytest-xdist), each test file and notebook whole in one of them (see
# tests/conftest.py). TEST_WORKERS=0 runs everything in this one process. nbval runs every lesson
# at the gpu preset's shapes, one step per training loop (the root conftest.py, tests/test_gpu_shapes.py);
# make test-gpu-shapes runs only the notebooks.
# TF_ENABLE_ONEDNN_OPTS=1 (unless set): oneDNN's CPU kernels, which TensorFlow turns on by itself only on
# CPUs with AVX-512's neural-network instructions (CI's). On an AVX2-only CPU lesson 07's capped brick
# ablation took 1.7x as long without them. TF_ENABLE_ONEDNN_OPTS=0 make test tests TensorFlow's own kernels.
TEST_WORKERS ?= 2
PYTEST := GAN_COURSE_PRESET=smoke GAN_COURSE_OFFLINE=1 MPLBACKEND=Agg TF_ENABLE_ONEDNN_OPTS=$${TF_ENABLE_ONEDNN_OPTS:-1} \
	$(BIN)/python -m pytest -n $(TEST_WORKERS)
test: $(STAMP)
	$(PYTEST) $(PYTEST_ARGS)

test-gpu-shapes: $(STAMP)
	$(PYTEST) notebooks/ $(PYTEST_ARGS)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

# The JavaScript that slides and the site serve themselves (offline), from the npm registry.
$(WEB): site/package.json site/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the slides' JavaScript: apt-get install npm"; exit 1; }
	cd site && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

web-assets: $(WEB)

materials: $(STAMP) $(WEB)
	$(BIN)/python -m gan_course.teaching.materials

slides: $(STAMP) $(WEB)
	$(BIN)/python -m gan_course.teaching.slides build --execute --preset $(PRESET) --out build/materials/slides-executed

site: $(STAMP) $(WEB)
	GAN_COURSE_OFFLINE=$${GAN_COURSE_OFFLINE:-1} $(BIN)/python -m gan_course.teaching.site --preset $(PRESET)

strip: $(STAMP)
	$(BIN)/jupyter nbconvert --clear-output --inplace notebooks/*.ipynb

lock:
	rm -rf /tmp/gan-course-lock && $(PYTHON) -m venv /tmp/gan-course-lock
	/tmp/gan-course-lock/bin/pip install --quiet -r requirements.in
	( head -2 requirements.txt; /tmp/gan-course-lock/bin/pip freeze ) > requirements.txt.new && mv requirements.txt.new requirements.txt

clean:
	rm -rf $(VENV) outputs .pytest_cache *.egg-info
