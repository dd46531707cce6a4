"""production: the audit log of admin changes, a workspace's conversation retention

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AutoString = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table('workspace') as batch:
        batch.add_column(sa.Column('retention_days', sa.Integer(), nullable=True))
    op.create_table(
        'auditentry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('actor', AutoString(length=254), nullable=False),
        sa.Column('action', AutoString(length=60), nullable=False),
        sa.Column('target_type', AutoString(length=40), nullable=False),
        sa.Column('target_id', AutoString(length=64), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.Column('ip', AutoString(length=64), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('auditentry') as batch:
        batch.create_index('ix_auditentry_workspace_id', ['workspace_id'], unique=False)
        batch.create_index('ix_auditentry_created_at', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_table('auditentry')
    with op.batch_alter_table('workspace') as batch:
        batch.drop_column('retention_days')
