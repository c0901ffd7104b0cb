"""User profile: name, location, about_me, member_since, last_seen.

An "expand" migration: it only adds nullable columns, so the release that
is still serving while it runs (which does not know these columns) keeps
working, and so does rolling back the code to that release.

Revision ID: 0002_user_profile
Revises: 0001_initial
Create Date: 2025-01-02 00:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0002_user_profile'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('name', sa.String(length=64),
                                     nullable=True))
    op.add_column('users', sa.Column('location', sa.String(length=64),
                                     nullable=True))
    op.add_column('users', sa.Column('about_me', sa.Text(), nullable=True))
    op.add_column('users', sa.Column('member_since', sa.DateTime(),
                                     nullable=True))
    op.add_column('users', sa.Column('last_seen', sa.DateTime(),
                                     nullable=True))


def downgrade():
    # batch mode: SQLite before 3.35 cannot DROP COLUMN in place.
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('last_seen')
        batch_op.drop_column('member_since')
        batch_op.drop_column('about_me')
        batch_op.drop_column('location')
        batch_op.drop_column('name')
