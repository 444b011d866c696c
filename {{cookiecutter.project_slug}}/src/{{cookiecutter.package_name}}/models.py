"""The tables, as typed SQLAlchemy models; Alembic compares them with migrations/."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAME_LENGTH = 100  # schemas.NAME_LENGTH, what the API accepts, must fit (tests/db/test_models.py)

# Named constraints, so migrations can drop and alter them the same way on every database.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Timestamps are stored in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes: they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Every model's base: one metadata with the naming convention."""

    metadata = sa.MetaData(naming_convention=NAMING)


class Item(Base):
    """The example resource: a named quantity, versioned for optimistic concurrency."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_LENGTH), unique=True)
    quantity: Mapped[int] = mapped_column(default=1)
    # Incremented by every UPDATE, which also checks it (UPDATE ... WHERE version = :seen):
    # of two writers that read the same version, only the first one's update matches a row.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    # SQLite would otherwise hand a deleted item's id to the next one, and its ETag with it.
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012

    def to_dict(self) -> dict[str, object]:
        """The item as the API shows it."""
        return {
            "id": self.id,
            "name": self.name,
            "quantity": self.quantity,
            "created_at": as_utc(self.created_at).isoformat(),
            "updated_at": as_utc(self.updated_at).isoformat(),
        }


class IdempotencyKey(Base):
    """A POST's Idempotency-Key and its first outcome, replayed to retries until it expires
    (writes.py). `status` is null while the first request is still in flight."""

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(64))  # the request it was sent with
    status: Mapped[int | None]
    headers: Mapped[list[list[str]] | None] = mapped_column(sa.JSON)
    body: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # Indexed: expired keys are deleted a few at a time, found without scanning the table.
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
