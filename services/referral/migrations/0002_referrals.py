"""The referral service's own tables: referrals and their timeline, SLA breaches, receiving
capacity and holds, and its copies of the formulary and of visiting specialists' sessions.

Revision ID: referral_0002
Revises: referral_0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "referral_0002"
down_revision: str | Sequence[str] | None = "referral_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "capacity_holds",
        sa.Column("hold_id", sa.String(length=64), nullable=False),
        sa.Column("referral_id", sa.String(length=64), nullable=False),
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.Column("department_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("hold_id"),
    )
    op.create_index(
        "ix_capacity_holds_day", "capacity_holds", ["facility_id", "department_id", "day"]
    )
    op.create_index("ix_capacity_holds_referral_id", "capacity_holds", ["referral_id"])

    op.create_table(
        "department_capacity",
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.Column("department_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("beds", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("facility_id", "department_id", "day"),
    )
    op.create_table(
        "follow_up_bookings",
        sa.Column("referral_id", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("referral_id"),
    )
    op.create_index("ix_follow_up_bookings_session_id", "follow_up_bookings", ["session_id"])

    op.create_table(
        "formulary_drugs",
        sa.Column("drug_code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("allowed_tiers", sa.JSON(), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("drug_code"),
    )
    op.create_table(
        "referral_timeline",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("referral_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_referral_timeline_referral_id", "referral_timeline", ["referral_id"])

    op.create_table(
        "referrals",
        sa.Column("referral_id", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("green_channel", sa.String(length=16), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("from_facility_id", sa.String(length=64), nullable=False),
        sa.Column("from_department_id", sa.String(length=64), nullable=True),
        sa.Column("to_facility_id", sa.String(length=64), nullable=False),
        sa.Column("to_department_id", sa.String(length=64), nullable=True),
        sa.Column("needs_bed", sa.Boolean(), nullable=False),
        sa.Column("patient_pseudonym", sa.String(length=64), nullable=False),
        sa.Column("patient_name", sa.LargeBinary(), nullable=False, comment="encrypted"),
        sa.Column("patient_national_id", sa.LargeBinary(), nullable=False, comment="encrypted"),
        sa.Column("clinical_note", sa.LargeBinary(), nullable=True, comment="encrypted"),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("diagnosis_codes", sa.JSON(), nullable=False),
        sa.Column("follow_up_plan", sa.JSON(), nullable=True),
        sa.Column("follow_up_specialty", sa.String(length=200), nullable=True),
        sa.Column("follow_up_from", sa.Date(), nullable=True),
        sa.Column("follow_up_by", sa.Date(), nullable=True),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accept_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expire_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("arrive_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accept_seconds", sa.Float(), nullable=True),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("record_returned", sa.Boolean(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason_code", sa.String(length=32), nullable=True),
        sa.Column("escalated_to_role", sa.String(length=32), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("referral_id"),
    )
    op.create_index("ix_referrals_from_facility_id", "referrals", ["from_facility_id"])
    op.create_index("ix_referrals_patient_pseudonym", "referrals", ["patient_pseudonym"])
    op.create_index("ix_referrals_requested_at", "referrals", ["requested_at"])
    op.create_index("ix_referrals_state_accept_due", "referrals", ["state", "accept_due_at"])
    op.create_index("ix_referrals_state_arrive_due", "referrals", ["state", "arrive_due_at"])
    op.create_index("ix_referrals_to_facility_id", "referrals", ["to_facility_id"])

    op.create_table(
        "sla_breaches",
        sa.Column("referral_id", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalated_to_role", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("referral_id", "stage"),
    )
    op.create_table(
        "specialist_sessions",
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("half_day", sa.String(length=16), nullable=False),
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.Column("specialty", sa.String(length=200), nullable=False),
        sa.Column("specialty_key", sa.String(length=200), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_id"),
    )
    op.create_index(
        "ix_specialist_sessions_facility_day", "specialist_sessions", ["facility_id", "day"]
    )


def downgrade() -> None:
    op.drop_table("specialist_sessions")
    op.drop_table("sla_breaches")
    op.drop_table("referrals")
    op.drop_table("referral_timeline")
    op.drop_table("formulary_drugs")
    op.drop_table("follow_up_bookings")
    op.drop_table("department_capacity")
    op.drop_table("capacity_holds")
