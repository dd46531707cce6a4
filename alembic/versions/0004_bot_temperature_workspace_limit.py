"""dashboard: bot temperature, a workspace's default message limit for new bots

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('bot') as batch:
        batch.add_column(
            sa.Column('temperature', sa.Float(), nullable=False, server_default='0.3')
        )
    with op.batch_alter_table('workspace') as batch:
        batch.add_column(sa.Column('default_message_limit', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('workspace') as batch:
        batch.drop_column('default_message_limit')
    with op.batch_alter_table('bot') as batch:
        batch.drop_column('temperature')
