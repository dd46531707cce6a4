"""actions, live handoff and audiences: action runs, conversation events, handoff times

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 00:20:00

Adds: bot description, audiences and router flag; conversation audience, handoff reason and
times (asked, assigned, first human reply, resolved) and fallback streak; message author (agent),
routed bot and offered actions; contact notes; the action run log; the conversation event log
(the ids live streams resume from).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AutoString = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table('bot') as batch:
        batch.add_column(sa.Column('description', AutoString(length=500), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('audiences', sa.JSON(), nullable=False, server_default='[]'))
        # A constant default: on SQLite an expression would make the batch copy the bot table,
        # and dropping the old copy cascades into every table that references bots.
        batch.add_column(sa.Column('is_router', sa.Boolean(), nullable=False,
                                   server_default='0'))
    with op.batch_alter_table('conversation') as batch:
        batch.add_column(sa.Column('audience', AutoString(length=40), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('handoff_reason', AutoString(length=30), nullable=False,
                                   server_default=''))
        for column in ('handoff_at', 'assigned_at', 'first_human_reply_at', 'resolved_at'):
            batch.add_column(sa.Column(column, sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('fallback_streak', sa.Integer(), nullable=False,
                                   server_default='0'))
        batch.create_index('ix_conversation_audience', ['audience'], unique=False)
    # SQLite copies the message table to add the references (nothing references messages, so
    # dropping the old copy cascades nowhere).
    with op.batch_alter_table('message') as batch:
        batch.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('routed_bot_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('actions', sa.JSON(), nullable=False, server_default='[]'))
        batch.create_foreign_key('fk_message_user_id', 'user', ['user_id'], ['id'],
                                 ondelete='SET NULL')
        batch.create_foreign_key('fk_message_routed_bot_id', 'bot', ['routed_bot_id'], ['id'],
                                 ondelete='SET NULL')
    with op.batch_alter_table('contact') as batch:
        batch.add_column(sa.Column('notes', sa.Text(), nullable=False, server_default=''))

    op.create_table(
        'actionrun',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('bot_id', sa.Integer(), nullable=False),
        sa.Column('action_id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=True),
        sa.Column('trigger', AutoString(length=20), nullable=False),
        sa.Column('input', sa.JSON(), nullable=False),
        sa.Column('outcome', AutoString(length=20), nullable=False),
        sa.Column('output', sa.Text(), nullable=False),
        sa.Column('error', AutoString(length=1000), nullable=False),
        sa.Column('duration_ms', sa.Integer(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['bot_id'], ['bot.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['action_id'], ['action.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('actionrun') as batch:
        for column in ('workspace_id', 'bot_id', 'action_id', 'conversation_id', 'created_at'):
            batch.create_index(f'ix_actionrun_{column}', [column], unique=False)

    op.create_table(
        'conversationevent',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('type', AutoString(length=30), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('conversationevent') as batch:
        for column in ('workspace_id', 'conversation_id', 'created_at'):
            batch.create_index(f'ix_conversationevent_{column}', [column], unique=False)


def downgrade() -> None:
    op.drop_table('conversationevent')
    op.drop_table('actionrun')
    with op.batch_alter_table('contact') as batch:
        batch.drop_column('notes')
    with op.batch_alter_table('message') as batch:
        batch.drop_constraint('fk_message_routed_bot_id', type_='foreignkey')
        batch.drop_constraint('fk_message_user_id', type_='foreignkey')
        for column in ('actions', 'routed_bot_id', 'user_id'):
            batch.drop_column(column)
    with op.batch_alter_table('conversation') as batch:
        batch.drop_index('ix_conversation_audience')
        for column in ('fallback_streak', 'resolved_at', 'first_human_reply_at', 'assigned_at',
                       'handoff_at', 'handoff_reason', 'audience'):
            batch.drop_column(column)
    with op.batch_alter_table('bot') as batch:
        for column in ('is_router', 'audiences', 'description'):
            batch.drop_column(column)
