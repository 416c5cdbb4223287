"""sophtron dialect tables

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from billfold.store.tables import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sophtron_credentials",
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("client_id", sa.String(40), nullable=False),
        sa.Column("access_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            ondelete="CASCADE",
            name=op.f("fk_sophtron_credentials_client_id_clients"),
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_sophtron_credentials")),
    )
    op.create_index(
        op.f("ix_sophtron_credentials_client_id"),
        "sophtron_credentials",
        ["client_id"],
        unique=True,
    )
    op.create_table(
        "sophtron_oauth_clients",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("owner_client_id", sa.String(40), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_client_id"],
            ["clients.id"],
            ondelete="CASCADE",
            name=op.f("fk_sophtron_oauth_clients_owner_client_id_clients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sophtron_oauth_clients")),
    )
    op.create_index(
        op.f("ix_sophtron_oauth_clients_owner_client_id"),
        "sophtron_oauth_clients",
        ["owner_client_id"],
    )
    op.create_table(
        "sophtron_oauth_codes",
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("oauth_client_id", sa.String(64), nullable=False),
        sa.Column("redirect_uri", sa.String(2000), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["oauth_client_id"],
            ["sophtron_oauth_clients.id"],
            ondelete="CASCADE",
            name=op.f("fk_sophtron_oauth_codes_oauth_client_id_sophtron_oauth_clients"),
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_sophtron_oauth_codes")),
    )
    op.create_index(
        op.f("ix_sophtron_oauth_codes_oauth_client_id"), "sophtron_oauth_codes", ["oauth_client_id"]
    )
    op.create_table(
        "sophtron_oauth_tokens",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("oauth_client_id", sa.String(64), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["oauth_client_id"],
            ["sophtron_oauth_clients.id"],
            ondelete="CASCADE",
            name=op.f("fk_sophtron_oauth_tokens_oauth_client_id_sophtron_oauth_clients"),
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_sophtron_oauth_tokens")),
    )
    op.create_index(
        op.f("ix_sophtron_oauth_tokens_oauth_client_id"),
        "sophtron_oauth_tokens",
        ["oauth_client_id"],
    )
    op.create_table(
        "sophtron_integration_keys",
        sa.Column("client_id", sa.String(40), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            ondelete="CASCADE",
            name=op.f("fk_sophtron_integration_keys_client_id_clients"),
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_sophtron_integration_keys")),
    )
    op.create_table(
        "sophtron_customers",
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("source", sa.String(500), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["end_users.id"],
            ondelete="CASCADE",
            name=op.f("fk_sophtron_customers_user_id_end_users"),
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_sophtron_customers")),
    )
    op.create_table(
        "sophtron_job_marks",
        sa.Column("job_id", sa.String(40), nullable=False),
        sa.Column("token_choice", sa.String(300), nullable=True),
        sa.Column("verify_phone", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["jobs.id"],
            ondelete="CASCADE",
            name=op.f("fk_sophtron_job_marks_job_id_jobs"),
        ),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_sophtron_job_marks")),
    )


def downgrade() -> None:
    for table in (
        "sophtron_job_marks",
        "sophtron_customers",
        "sophtron_integration_keys",
        "sophtron_oauth_tokens",
        "sophtron_oauth_codes",
        "sophtron_oauth_clients",
        "sophtron_credentials",
    ):
        op.drop_table(table)
