"""responses counted by version, day, country and fact (app/counts.py)

The table starts empty; `flask atlas recount --fix` (run by `make database`) fills it from the
stored responses, after which every submission, withdrawal and retention purge keeps it in step.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 15:30:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('response_count',
    sa.Column('fact', sa.String(length=32), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('value', sa.String(length=420), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('key_sum', sa.BigInteger(), nullable=False),
    sa.Column('sources', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['survey_version.id'], name=op.f('fk_response_count_version_id_survey_version')),
    sa.PrimaryKeyConstraint('fact', 'version_id', 'country', 'day', 'value', name=op.f('pk_response_count'))
    )


def downgrade():
    op.drop_table('response_count')
