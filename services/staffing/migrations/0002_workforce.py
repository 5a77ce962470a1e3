"""The workforce: positions, staff, leave, rotations, sessions, bookings, weeks, stationings.

Revision ID: staffing_0002
Revises: staffing_0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "staffing_0002"
down_revision: str | Sequence[str] | None = "staffing_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "positions",
        sa.Column("position_id", sa.String(64), primary_key=True),
        sa.Column("facility_id", sa.String(64), nullable=False),
        sa.Column("department_id", sa.String(64)),
        sa.Column("title", sa.String(20), nullable=False),
        sa.Column("specialty", sa.String(200)),
        sa.Column("created_at", _TZ, nullable=False),
    )
    op.create_index("ix_positions_facility_id", "positions", ["facility_id"])
    op.create_table(
        "staff_members",
        sa.Column("staff_id", sa.String(64), primary_key=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("home_facility_id", sa.String(64), nullable=False),
        sa.Column("department_id", sa.String(64)),
        sa.Column("title", sa.String(20), nullable=False),
        sa.Column("specialty", sa.String(200), nullable=False),
        sa.Column("active_from", sa.Date(), nullable=False),
        sa.Column("active_until", sa.Date()),
        sa.Column("position_id", sa.String(64)),
        sa.Column("seeded", sa.Boolean(), nullable=False),
        sa.Column("deactivated_at", _TZ),
        sa.Column("updated_at", _TZ, nullable=False),
    )
    op.create_index("ix_staff_members_home_facility_id", "staff_members", ["home_facility_id"])
    op.create_index("ix_staff_members_position_id", "staff_members", ["position_id"])
    op.create_table(
        "leave",
        sa.Column("leave_id", sa.String(64), primary_key=True),
        sa.Column("staff_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("half_day", sa.String(10)),
        sa.Column("recorded_at", _TZ, nullable=False),
        sa.Column("withdrawn_at", _TZ),
    )
    op.create_index("ix_leave_staff_id", "leave", ["staff_id"])
    op.create_table(
        "rotations",
        sa.Column("rotation_id", sa.String(64), primary_key=True),
        sa.Column("staff_id", sa.String(64), nullable=False),
        sa.Column("facility_id", sa.String(64), nullable=False),
        sa.Column("slots", sa.JSON(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("cancelled_from", sa.Date()),
    )
    op.create_index("ix_rotations_staff_id", "rotations", ["staff_id"])
    op.create_table(
        "sessions",
        sa.Column("session_id", sa.String(64), primary_key=True),
        sa.Column("staff_id", sa.String(64), nullable=False),
        sa.Column("home_facility_id", sa.String(64), nullable=False),
        sa.Column("facility_id", sa.String(64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("half_day", sa.String(10), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("rotation_id", sa.String(64)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("planned_at", _TZ, nullable=False),
        sa.Column("cancelled_at", _TZ),
        sa.Column("cancel_reason", sa.String(32)),
        sa.Column("cancellation_announced", sa.Boolean(), nullable=False),
        sa.Column("checked_in_at", _TZ),
        sa.Column("checked_out_at", _TZ),
        sa.Column("missed_at", _TZ),
        sa.Column("patients_seen", sa.Integer()),
        sa.Column("home_visits", sa.Integer()),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_sessions_week_facility", "sessions", ["week_start", "facility_id"])
    op.create_index("ix_sessions_staff_date", "sessions", ["staff_id", "date"])
    op.create_index("ix_sessions_rotation_id", "sessions", ["rotation_id"])
    op.create_table(
        "staff_bookings",
        sa.Column("staff_id", sa.String(64), primary_key=True),
        sa.Column("date", sa.Date(), primary_key=True),
        sa.Column("half_day", sa.String(10), primary_key=True),
        sa.Column("session_id", sa.String(64), nullable=False, unique=True),
    )
    op.create_table(
        "published_weeks",
        sa.Column("week_start", sa.Date(), primary_key=True),
        sa.Column("published_at", _TZ, nullable=False),
        sa.Column("published_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "stationings",
        sa.Column("stationing_id", sa.String(64), primary_key=True),
        sa.Column("staff_id", sa.String(64), nullable=False),
        sa.Column("facility_id", sa.String(64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("planned_end_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date()),
        sa.Column("started_at", _TZ, nullable=False),
        sa.Column("ended_at", _TZ),
    )
    op.create_index("ix_stationings_staff_id", "stationings", ["staff_id"])
    op.create_index("ix_stationings_facility_id", "stationings", ["facility_id"])


def downgrade() -> None:
    for table in (
        "stationings",
        "published_weeks",
        "staff_bookings",
        "sessions",
        "rotations",
        "leave",
        "staff_members",
        "positions",
    ):
        op.drop_table(table)
