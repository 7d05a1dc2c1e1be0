"""distribution links, link opens per day, coordinator invitations

Response.link_id and Draft.link_id stay plain indexed integers (see app/links/models.py): links
are revoked, never deleted, and the respondent's tables do not depend on the workspace's.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 17:30:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('distribution_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('opens_on', sa.Date(), nullable=True),
    sa.Column('closes_on', sa.Date(), nullable=True),
    sa.Column('response_cap', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_distribution_link_created_by_user_account')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_distribution_link_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], name=op.f('fk_distribution_link_survey_id_survey')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_link')),
    sa.UniqueConstraint('code', name=op.f('uq_distribution_link_code'))
    )
    with op.batch_alter_table('distribution_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distribution_link_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_distribution_link_survey_id'), ['survey_id'], unique=False)

    op.create_table('link_day',
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('opens', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['link_id'], ['distribution_link.id'], name=op.f('fk_link_day_link_id_distribution_link')),
    sa.PrimaryKeyConstraint('link_id', 'day', name=op.f('pk_link_day'))
    )
    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_invitation_created_by_user_account')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_invitation_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitation_token_hash'))
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_organisation_id'), ['organisation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_organisation_id'))
    op.drop_table('invitation')
    op.drop_table('link_day')
    with op.batch_alter_table('distribution_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_distribution_link_survey_id'))
        batch_op.drop_index(batch_op.f('ix_distribution_link_organisation_id'))
    op.drop_table('distribution_link')
