"""Alembic's entrypoint: the service's own URL rules, and its models as the target."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, make_url, pool

from {{ cookiecutter.package_name }}.engine import make_directory_for
from {{ cookiecutter.package_name }}.models import Base
from {{ cookiecutter.package_name }}.settings import Settings

config = context.config
if config.config_file_name and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def url() -> str:
    """sqlalchemy.url if a caller set one (the tests), else DATABASE_URL as the service reads it."""
    return config.get_main_option("sqlalchemy.url") or Settings.from_env().DATABASE_URL


def run() -> None:
    """Migrate in one transaction; batch mode lets SQLite alter tables."""
    target = make_url(url())
    make_directory_for(target)
    engine = create_engine(target, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
