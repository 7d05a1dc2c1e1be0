"""kept counts also under one row for every day together; an index to read those rows

The counts written before hold no every-day rows: they are emptied here, and
`flask atlas recount --quick --fix` (run by `make database`) rebuilds them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 19:55:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("DELETE FROM response_count")
    op.create_index('ix_response_count_day_fact', 'response_count', ['day', 'fact', 'version_id'])


def downgrade():
    op.drop_index('ix_response_count_day_fact', table_name='response_count')
    op.execute("DELETE FROM response_count")
