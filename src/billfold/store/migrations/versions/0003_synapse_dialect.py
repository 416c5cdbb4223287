"""synapse dialect tables

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import billfold.store.tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "synapse_credentials",
        sa.Column("gateway_id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", billfold.store.tables.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_synapse_credentials_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("gateway_id", name=op.f("pk_synapse_credentials")),
    )
    op.create_index(
        op.f("ix_synapse_credentials_client_id"), "synapse_credentials", ["client_id"], unique=False
    )
    op.create_table(
        "synapse_idempotency",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", billfold.store.tables.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_synapse_idempotency_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_synapse_idempotency")),
        sa.UniqueConstraint(
            "client_id",
            "key_hash",
            "method",
            "path",
            "body_hash",
            name=op.f("uq_synapse_idempotency_client_id"),
        ),
    )
    op.create_table(
        "synapse_public_keys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("private_key", sa.LargeBinary(), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("created_at", billfold.store.tables.UtcDateTime(), nullable=False),
        sa.Column("expires_at", billfold.store.tables.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_synapse_public_keys_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_synapse_public_keys")),
    )
    op.create_index(
        op.f("ix_synapse_public_keys_client_id"), "synapse_public_keys", ["client_id"], unique=False
    )
    op.create_table(
        "synapse_subscriptions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", billfold.store.tables.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_synapse_subscriptions_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_synapse_subscriptions")),
    )
    op.create_index(
        op.f("ix_synapse_subscriptions_client_id"),
        "synapse_subscriptions",
        ["client_id"],
        unique=False,
    )
    op.create_table(
        "synapse_deliveries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("subscription_id", sa.String(length=40), nullable=False),
        sa.Column("function", sa.String(length=32), nullable=False),
        sa.Column("obj_id", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("http_response_code", sa.Integer(), nullable=True),
        sa.Column("created_at", billfold.store.tables.UtcDateTime(), nullable=False),
        sa.Column("updated_at", billfold.store.tables.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_synapse_deliveries_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["synapse_subscriptions.id"],
            name=op.f("fk_synapse_deliveries_subscription_id_synapse_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_synapse_deliveries")),
    )
    op.create_index(
        op.f("ix_synapse_deliveries_client_id"), "synapse_deliveries", ["client_id"], unique=False
    )
    op.create_index(
        op.f("ix_synapse_deliveries_subscription_id"),
        "synapse_deliveries",
        ["subscription_id"],
        unique=False,
    )
    op.create_table(
        "synapse_users",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("fingerprints", sa.JSON(), nullable=False),
        sa.Column("refresh_token", sa.LargeBinary(), nullable=False),
        sa.Column("refresh_uses", sa.Integer(), nullable=False),
        sa.Column("last_ip", sa.String(length=64), nullable=True),
        sa.Column("created_at", billfold.store.tables.UtcDateTime(), nullable=False),
        sa.Column("updated_at", billfold.store.tables.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_synapse_users_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["end_users.id"],
            name=op.f("fk_synapse_users_user_id_end_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_synapse_users")),
        sa.UniqueConstraint("user_id", name=op.f("uq_synapse_users_user_id")),
    )
    op.create_index(
        op.f("ix_synapse_users_client_id"), "synapse_users", ["client_id"], unique=False
    )
    op.create_table(
        "synapse_logins",
        sa.Column("connection_id", sa.String(length=40), nullable=False),
        sa.Column("login_id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("synapse_user_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", billfold.store.tables.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_synapse_logins_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_synapse_logins_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["synapse_user_id"],
            ["synapse_users.id"],
            name=op.f("fk_synapse_logins_synapse_user_id_synapse_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_synapse_logins")),
        sa.UniqueConstraint("login_id", name=op.f("uq_synapse_logins_login_id")),
    )
    op.create_index(
        op.f("ix_synapse_logins_client_id"), "synapse_logins", ["client_id"], unique=False
    )
    op.create_index(
        op.f("ix_synapse_logins_synapse_user_id"),
        "synapse_logins",
        ["synapse_user_id"],
        unique=False,
    )
    op.create_table(
        "synapse_oauth_keys",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("synapse_user_id", sa.String(length=40), nullable=False),
        sa.Column("fingerprint", sa.String(length=200), nullable=False),
        sa.Column("expires_at", billfold.store.tables.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_synapse_oauth_keys_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["synapse_user_id"],
            ["synapse_users.id"],
            name=op.f("fk_synapse_oauth_keys_synapse_user_id_synapse_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_synapse_oauth_keys")),
    )
    op.create_index(
        op.f("ix_synapse_oauth_keys_client_id"), "synapse_oauth_keys", ["client_id"], unique=False
    )
    op.create_index(
        op.f("ix_synapse_oauth_keys_synapse_user_id"),
        "synapse_oauth_keys",
        ["synapse_user_id"],
        unique=False,
    )
    op.create_table(
        "synapse_mfa_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("synapse_user_id", sa.String(length=40), nullable=False),
        sa.Column("job_id", sa.String(length=40), nullable=False),
        sa.Column("expires_at", billfold.store.tables.UtcDateTime(), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_synapse_mfa_tokens_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["jobs.id"],
            name=op.f("fk_synapse_mfa_tokens_job_id_jobs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["synapse_user_id"],
            ["synapse_users.id"],
            name=op.f("fk_synapse_mfa_tokens_synapse_user_id_synapse_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_synapse_mfa_tokens")),
    )
    op.create_index(
        op.f("ix_synapse_mfa_tokens_client_id"), "synapse_mfa_tokens", ["client_id"], unique=False
    )
    op.create_index(
        op.f("ix_synapse_mfa_tokens_job_id"), "synapse_mfa_tokens", ["job_id"], unique=False
    )
    op.create_index(
        op.f("ix_synapse_mfa_tokens_synapse_user_id"),
        "synapse_mfa_tokens",
        ["synapse_user_id"],
        unique=False,
    )
    op.create_table(
        "synapse_nodes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("synapse_user_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("connection_id", sa.String(length=40), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("allowed", sa.String(length=32), nullable=False),
        sa.Column("supp_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", billfold.store.tables.UtcDateTime(), nullable=False),
        sa.Column("updated_at", billfold.store.tables.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_synapse_nodes_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_synapse_nodes_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_synapse_nodes_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["synapse_user_id"],
            ["synapse_users.id"],
            name=op.f("fk_synapse_nodes_synapse_user_id_synapse_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_synapse_nodes")),
        sa.UniqueConstraint("account_id", name=op.f("uq_synapse_nodes_account_id")),
    )
    op.create_index(
        op.f("ix_synapse_nodes_client_id"), "synapse_nodes", ["client_id"], unique=False
    )
    op.create_index(
        op.f("ix_synapse_nodes_connection_id"), "synapse_nodes", ["connection_id"], unique=False
    )
    op.create_index(
        op.f("ix_synapse_nodes_synapse_user_id"), "synapse_nodes", ["synapse_user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_synapse_nodes_synapse_user_id"), table_name="synapse_nodes")
    op.drop_index(op.f("ix_synapse_nodes_connection_id"), table_name="synapse_nodes")
    op.drop_index(op.f("ix_synapse_nodes_client_id"), table_name="synapse_nodes")
    op.drop_table("synapse_nodes")
    op.drop_index(op.f("ix_synapse_mfa_tokens_synapse_user_id"), table_name="synapse_mfa_tokens")
    op.drop_index(op.f("ix_synapse_mfa_tokens_job_id"), table_name="synapse_mfa_tokens")
    op.drop_index(op.f("ix_synapse_mfa_tokens_client_id"), table_name="synapse_mfa_tokens")
    op.drop_table("synapse_mfa_tokens")
    op.drop_index(op.f("ix_synapse_oauth_keys_synapse_user_id"), table_name="synapse_oauth_keys")
    op.drop_index(op.f("ix_synapse_oauth_keys_client_id"), table_name="synapse_oauth_keys")
    op.drop_table("synapse_oauth_keys")
    op.drop_index(op.f("ix_synapse_logins_synapse_user_id"), table_name="synapse_logins")
    op.drop_index(op.f("ix_synapse_logins_client_id"), table_name="synapse_logins")
    op.drop_table("synapse_logins")
    op.drop_index(op.f("ix_synapse_users_client_id"), table_name="synapse_users")
    op.drop_table("synapse_users")
    op.drop_index(op.f("ix_synapse_deliveries_subscription_id"), table_name="synapse_deliveries")
    op.drop_index(op.f("ix_synapse_deliveries_client_id"), table_name="synapse_deliveries")
    op.drop_table("synapse_deliveries")
    op.drop_index(op.f("ix_synapse_subscriptions_client_id"), table_name="synapse_subscriptions")
    op.drop_table("synapse_subscriptions")
    op.drop_index(op.f("ix_synapse_public_keys_client_id"), table_name="synapse_public_keys")
    op.drop_table("synapse_public_keys")
    op.drop_table("synapse_idempotency")
    op.drop_index(op.f("ix_synapse_credentials_client_id"), table_name="synapse_credentials")
    op.drop_table("synapse_credentials")
