"""record keys for the cell-key method, independent respondents, receipts shown once

Existing responses and drafts get random record keys (uniform on 0..255) and count as
independent: nothing told them apart when they were stored.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 14:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def _random_keys(table):
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'UPDATE {table} SET record_key = floor(random() * 256)::int')
    else:
        op.execute(f'UPDATE {table} SET record_key = abs(random()) % 256')


def upgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record_key', sa.SmallInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('independent', sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record_key', sa.SmallInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('receipt_shown_at', sa.DateTime(timezone=True), nullable=True))
    _random_keys('response')
    _random_keys('draft')
    # Drafts already submitted had their thank-you page: their receipt is not shown again.
    op.execute('UPDATE draft SET receipt_shown_at = submitted_at WHERE submitted_at IS NOT NULL')

    op.create_table('submission_source',
    sa.Column('source_hash', sa.String(length=32), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('previous_expiry', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('source_hash', name=op.f('pk_submission_source'))
    )
    with op.batch_alter_table('submission_source', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_source_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('submission_source', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_source_expires_at'))
    op.drop_table('submission_source')
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.drop_column('receipt_shown_at')
        batch_op.drop_column('record_key')
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_column('independent')
        batch_op.drop_column('record_key')
