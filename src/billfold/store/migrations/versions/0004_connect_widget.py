"""connect widget tables

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import billfold.store.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connect_tokens",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("institution_id", sa.String(length=64), nullable=True),
        sa.Column("connection_id", sa.String(length=40), nullable=True),
        sa.Column("allowed_origins", sa.JSON(), nullable=False),
        sa.Column("created_at", billfold.store.tables.UtcDateTime(), nullable=False),
        sa.Column("expires_at", billfold.store.tables.UtcDateTime(), nullable=False),
        sa.Column("used_at", billfold.store.tables.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_connect_tokens_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["end_users.id"],
            name=op.f("fk_connect_tokens_user_id_end_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_connect_tokens_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_connect_tokens_token_hash")),
    )
    with op.batch_alter_table("connect_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_connect_tokens_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_connect_tokens_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_connect_tokens_connection_id"), ["connection_id"], unique=False
        )

    op.create_table(
        "connect_sessions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("token_id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=300), nullable=False),
        sa.Column("pinned_institution_id", sa.String(length=64), nullable=True),
        sa.Column("institution_id", sa.String(length=64), nullable=True),
        sa.Column("connection_id", sa.String(length=40), nullable=True),
        sa.Column("job_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", billfold.store.tables.UtcDateTime(), nullable=False),
        sa.Column("expires_at", billfold.store.tables.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["connect_tokens.id"],
            name=op.f("fk_connect_sessions_token_id_connect_tokens"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_connect_sessions_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["end_users.id"],
            name=op.f("fk_connect_sessions_user_id_end_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_sessions")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_connect_sessions_secret_hash")),
    )
    with op.batch_alter_table("connect_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_connect_sessions_token_id"), ["token_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_connect_sessions_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_connect_sessions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("connect_sessions")
    op.drop_table("connect_tokens")
