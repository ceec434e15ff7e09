# The project's commands. `make serve` and `make test` are the two a newcomer needs.
PY := .venv/bin/python
export NO_MKDOCS_2_WARNING := 1

.PHONY: setup catalogue site serve test bench clean

setup:
	@bash scripts/setup.sh

catalogue: setup
	$(PY) -m site_build.catalogue

site: setup
	$(PY) -m site_build

serve: site
	$(PY) -m deploy.serve --port 8000    # nginx with deploy/nginx.conf; http.server when nginx is missing

test: site
	$(PY) -m pytest -q

bench: site
	$(PY) -m bench

clean:
	rm -rf site build dist checker/catalogue.json
