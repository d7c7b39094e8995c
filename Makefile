# The two commands a new user needs: `make demo` and `make test`.
# Both create .venv with uv (bootstrapped with pip) and install sageforge into it.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
UV     := $(VENV)/bin/uv

.PHONY: demo test bench lint venv clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv
	# --compile-bytecode: every job, endpoint worker and test server is a fresh Python
	# process; with precompiled .pyc files their imports take ~1.7 s instead of ~4 s
	# (more where PYTHONDONTWRITEBYTECODE is set and nothing is cached at run time).
	$(UV) pip install --python $(PY) --quiet --compile-bytecode -e '.[dev]'
	$(PY) -m compileall -q src
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(PY) examples/demo.py

test: venv
	$(PY) -m pytest

bench: venv
	@set -e; for script in bench/*.py; do echo "== $$script"; $(PY) $$script; done

lint: venv
	$(VENV)/bin/ruff check src tests bench examples
	$(VENV)/bin/ruff format --check src tests bench examples

clean:
	rm -rf $(VENV) .venv-compat .venv-compat.lock .pytest_cache .ruff_cache
