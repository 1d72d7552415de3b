# One entry point for people and CI. Every target creates .venv when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# On a Pi, spidev and evdev (C extensions with no ARM wheels on PyPI) come from apt
# (python3-spidev, python3-evdev, as deploy/install.sh installs them): the venv sees them.
ON_PI  := $(filter aarch64 armv6l armv7l armv8l,$(shell uname -m))

.PHONY: demo test check lint typecheck imports bench clean

$(STAMP): pyproject.toml deploy/no-deps.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(if $(ON_PI),--system-site-packages) $(VENV) || { rm -rf $(VENV); \
	  echo "Cannot create a virtual environment. On Debian or Raspberry Pi OS: sudo apt install python3-venv"; \
	  exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	# Its own step, without dependencies: mfrc522 declares RPi.GPIO, which would be
	# compiled (see deploy/no-deps.txt). The RC522 tests run its code on an emulated chip.
	$(BIN)/python -m pip install --quiet --no-deps -r deploy/no-deps.txt
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/kiosk demo

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The dependency rules of DESIGN.md (pyproject.toml [tool.importlinter]).
imports: $(STAMP)
	$(BIN)/lint-imports

check: lint typecheck imports test

bench: $(STAMP)
	$(BIN)/python -m bench --cpu-budget 25

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
