"""The ledger, the bundle, claims, internal charges, appraisal points, settlement runs.

Revision ID: finance_0002
Revises: finance_0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from libs.platform.money import ExactDecimal

revision: str = "finance_0002"
down_revision: str | Sequence[str] | None = "finance_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _money() -> ExactDecimal:
    return ExactDecimal(16, 2)


def upgrade() -> None:
    op.create_table(
        "accounting_periods",
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "journal_entries",
        sa.Column("entry_id", sa.String(64), primary_key=True),
        sa.Column("entry_type", sa.String(32), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("original_period", sa.String(7)),
        sa.Column("memo", sa.String(500), nullable=False),
        sa.Column(
            "source_key",
            sa.String(200),
            unique=True,
            comment="What caused it, e.g. visit:<facility>/<visit>.",
        ),
        sa.Column("causation_event_id", sa.String(64)),
        sa.Column("causation_event_type", sa.String(100)),
        sa.Column("reverses_entry_id", sa.String(64), unique=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_journal_entries_period", "journal_entries", ["period"])
    op.create_index(
        "ix_journal_entries_causation_event_id", "journal_entries", ["causation_event_id"]
    )
    op.create_index("ix_journal_entries_type_period", "journal_entries", ["entry_type", "period"])
    op.create_table(
        "journal_lines",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "entry_id",
            sa.String(64),
            sa.ForeignKey("journal_entries.entry_id"),
            nullable=False,
        ),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("community_id", sa.String(64), nullable=False),
        sa.Column("facility_id", sa.String(64)),
        sa.Column("account_code", sa.String(32), nullable=False),
        sa.Column("debit", _money(), nullable=False),
        sa.Column("credit", _money(), nullable=False),
    )
    op.create_index("ix_journal_lines_entry_id", "journal_lines", ["entry_id"])
    op.create_index(
        "ix_journal_lines_book", "journal_lines", ["community_id", "facility_id", "period"]
    )
    op.create_index("ix_journal_lines_account", "journal_lines", ["account_code", "period"])
    op.create_index("ix_journal_lines_facility_entry", "journal_lines", ["facility_id", "entry_id"])
    op.create_table(
        "budgets",
        sa.Column("budget_id", sa.String(64), primary_key=True),
        sa.Column("community_id", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("total", _money(), nullable=False),
        sa.Column("prepaid", _money(), nullable=False),
        sa.Column("consumed", _money(), nullable=False),
        sa.Column("consumed_out_of_county", _money(), nullable=False),
        sa.Column("paid_provisional", _money(), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.Column("thresholds_crossed", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reconciled_at", sa.DateTime(timezone=True)),
        sa.Column("reconciliation", sa.JSON()),
        sa.UniqueConstraint("community_id", "year", name="uq_budgets_community_year"),
    )
    op.create_table(
        "claims",
        sa.Column("claim_id", sa.String(64), primary_key=True),
        sa.Column("visit_key", sa.String(140), nullable=False, unique=True),
        sa.Column("visit_id", sa.String(64), nullable=False),
        sa.Column("facility_id", sa.String(64), nullable=False),
        sa.Column("community_id", sa.String(64), nullable=False),
        sa.Column("budget_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("in_county", sa.Boolean(), nullable=False),
        sa.Column("facility_tier", sa.String(20), nullable=False),
        sa.Column("insurance_type", sa.String(32), nullable=False),
        sa.Column("eligible_amount", _money(), nullable=False),
        sa.Column("ratio", ExactDecimal(7, 6), nullable=False),
        sa.Column("payout", _money(), nullable=False),
        sa.Column("copay", _money(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entry_id", sa.String(64)),
        sa.Column(
            "settlement_run_id",
            sa.String(64),
            comment="The run that paid the member for it (in-county claims).",
        ),
    )
    op.create_index("ix_claims_budget_period", "claims", ["budget_id", "period"])
    op.create_table(
        "internal_charges",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("source_key", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("payer_facility_id", sa.String(64), nullable=False),
        sa.Column("payee_facility_id", sa.String(64), nullable=False),
        sa.Column("amount", _money(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settlement_run_id", sa.String(64)),
    )
    op.create_index(
        "ix_internal_charges_unsettled", "internal_charges", ["settlement_run_id", "period"]
    )
    op.create_table(
        "appraisal_points",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("source_key", sa.String(200), nullable=False),
        sa.Column("community_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("staff_id", sa.String(64), nullable=False),
        sa.Column("facility_id", sa.String(64), nullable=False),
        sa.Column("points", ExactDecimal(12, 2), nullable=False),
        sa.UniqueConstraint("source_key", "staff_id", name="uq_appraisal_points_source_staff"),
    )
    op.create_index(
        "ix_appraisal_points_community_period", "appraisal_points", ["community_id", "period"]
    )
    op.create_table(
        "settlement_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("total", _money(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("kind", "period", "scope", name="uq_settlement_runs_kind_period_scope"),
    )


def downgrade() -> None:
    for table in (
        "settlement_runs",
        "appraisal_points",
        "internal_charges",
        "claims",
        "budgets",
        "journal_lines",
        "journal_entries",
        "accounting_periods",
    ):
        op.drop_table(table)
