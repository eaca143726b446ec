# ArcGIS Offline Tiles — the single entry point. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    ?= .venv
PY      := $(VENV)/bin/python
HEADLESS := QT_QPA_PLATFORM=offscreen
PYTEST_ARGS ?=

PLUGIN  := arcgis_offline_tiles
VERSION := $(shell sed -n 's/^version=//p' metadata.txt)
ZIP     := dist/$(PLUGIN)-$(VERSION).zip
QGIS_PROFILE_DIR ?= $(HOME)/.local/share/QGIS/QGIS3/profiles/default

.PHONY: help deps test test-unit test-qgis340 test-qgis344 check-qt6 demo demo-qgis340 demo-qgis344 docs-images serve \
        lint package deploy \
        transup transcompile bench screenshots clean

help: ## Show this help
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z0-9_-]+:.*## /{printf "  \033[1m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## Install QGIS (Debian packages), the .venv and the pinned dev requirements (idempotent)
	@bash scripts/deps.sh

test: deps ## Run the whole test suite on the system QGIS (3.22 on Debian 12), headless
	$(HEADLESS) $(PY) -m pytest $(PYTEST_ARGS)

test-unit: deps ## Run the tests that need no QGIS (core and engine), without the slow property tests
	$(PY) -m pytest -p no:pytest_qgis -W ignore::pytest.PytestConfigWarning -m "not slow" tests/unit tests/engine $(PYTEST_ARGS)

test-qgis340: ## Run the same suite on QGIS 3.40 LTR in a Debian trixie chroot (built on first use)
	@bash scripts/qgis-chroot.sh 340 test $(PYTEST_ARGS)

test-qgis344: ## Run the same suite on QGIS 3.44, the newest QGIS Debian ships, in a Debian sid chroot
	@bash scripts/qgis-chroot.sh 344 test $(PYTEST_ARGS)

check-qt6: deps ## Qt 6 readiness: every Qt name resolved against PyQt6, .ui files loaded with PyQt6.uic, scoped QGIS enums
	@bash scripts/check-qt6.sh

demo: deps ## The main job: start the sample ArcGIS server and run the export mission headless
	$(HEADLESS) $(PY) -m arcgis_emulator.demo

docs-images: deps ## Run the demo and refresh the README's pictures in docs/images
	$(HEADLESS) $(PY) -m arcgis_emulator.demo --docs docs/images

demo-qgis340: ## The demo on QGIS 3.40 LTR (chroot)
	@bash scripts/qgis-chroot.sh 340 demo

demo-qgis344: ## The demo on QGIS 3.44 (chroot)
	@bash scripts/qgis-chroot.sh 344 demo

ARGS ?=
serve: deps ## Run the local ArcGIS Server emulator until stopped (prints its URLs; ARGS="--port 8080 --max-export-tiles 500")
	$(HEADLESS) $(PY) -m arcgis_emulator serve $(ARGS)

lint: deps ## Lint with ruff (Python 3.9 target)
	$(PY) -m ruff check .

package: ## Build the plugin zip for the QGIS plugin repository into dist/
	@bash scripts/package.sh "$(ZIP)"

deploy: package ## Install the packaged plugin into a QGIS profile (QGIS_PROFILE_DIR) and enable it
	@bash scripts/deploy.sh "$(ZIP)" "$(QGIS_PROFILE_DIR)"

transup: deps ## Update the i18n/*.ts translation sources from the code and .ui files
	@bash scripts/i18n.sh update

transcompile: deps ## Compile i18n/*.ts into .qm files
	@bash scripts/i18n.sh compile

bench: ## Run the benchmarks side by side with their baselines; writes bench/out/results.json
	@bash scripts/deps.sh bench
	$(HEADLESS) $(PY) -m bench $(BENCH)

screenshots: deps ## Render the dock and canvas offscreen into screenshots/ (outside git)
	$(HEADLESS) $(PY) -m pytest -q tests/qgis -k screenshot --screenshots-dir=screenshots

clean: ## Remove build outputs and caches (keeps .venv and the emulator tile cache)
	rm -rf build dist bench/out demo-output screenshots .qgis-settings .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
