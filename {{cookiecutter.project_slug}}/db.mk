# Database targets, included by the Makefile.
# DATABASE_URL unset means instance/app.sqlite3, the same file `make dev` uses.
TEST_DB_PORT ?= 55432

.PHONY: migrate migration test-postgres

migrate: $(STAMP)  ## apply every migration (alembic upgrade head)
	APP_ENV=$${APP_ENV:-development} $(BIN)/alembic upgrade head

migration: $(STAMP)  ## a new revision from the models: make migration m="add orders"
	@test -n "$(m)" || { echo 'usage: make migration m="what it changes"' >&2; exit 2; }
	APP_ENV=$${APP_ENV:-development} $(BIN)/alembic upgrade head
	APP_ENV=$${APP_ENV:-development} $(BIN)/alembic revision --autogenerate -m "$(m)"

# Compose requires the variables of every service whichever one it starts; test-db uses none of
# them, so a fresh clone (no .env) gets stand-ins, for these test-db commands only.
TEST_DB_COMPOSE = SECRET_KEY=$${SECRET_KEY:-unused} POSTGRES_PASSWORD=$${POSTGRES_PASSWORD:-unused} \
  TEST_DB_PORT=$(TEST_DB_PORT) docker compose --profile test

# As make test, on two workers per CPU: each PostgreSQL test makes a database of its own.
test-postgres: $(STAMP)  ## the test suite against compose's throw-away PostgreSQL (test-db)
	$(TEST_DB_COMPOSE) up --detach --wait test-db
	TEST_DATABASE_URL=postgresql://test:test@127.0.0.1:$(TEST_DB_PORT)/test \
	  $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal --cov --cov-report=term; \
	  status=$$?; $(TEST_DB_COMPOSE) rm --force --stop test-db; exit $$status

dev: migrate
