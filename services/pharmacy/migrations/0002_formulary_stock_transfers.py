"""The formulary, stock lots and the stock card, prescriptions, shortages, reservations,
transfers, expiry scans and level overrides.

Revision ID: pharmacy_0002
Revises: pharmacy_0001
Create Date: 2026-11-22 13:44:37.178790
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "pharmacy_0002"
down_revision: str | Sequence[str] | None = "pharmacy_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "drugs",
        sa.Column("drug_code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("generic_name", sa.String(length=200), nullable=True),
        sa.Column("dosage_form", sa.String(length=200), nullable=False),
        sa.Column("strength", sa.String(length=200), nullable=False),
        sa.Column("pack_size", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("essential", sa.Boolean(), nullable=False),
        sa.Column("tcm", sa.Boolean(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("allowed_tiers", sa.JSON(), nullable=False),
        sa.Column("allowed_facility_types", sa.JSON(), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("delisted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delist_reason", sa.String(length=32), nullable=True),
        sa.Column(
            "seed_fingerprint",
            sa.String(length=64),
            nullable=True,
            comment="Digest of the seed entry last applied; a changed seed updates.",
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("unit_price >= 0", name="ck_drugs_price"),
        sa.PrimaryKeyConstraint("drug_code"),
    )
    op.create_table(
        "expiry_scans",
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.Column("scanned_on", sa.Date(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("near_expiry_value", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("expired_value", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("near_expiry_lots", sa.Integer(), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("facility_id", "scanned_on"),
    )
    op.create_table(
        "level_overrides",
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.Column("drug_code", sa.String(length=64), nullable=False),
        sa.Column("reorder_point", sa.Integer(), nullable=False),
        sa.Column("target_level", sa.Integer(), nullable=False),
        sa.Column("set_by", sa.String(length=100), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "reorder_point >= 0 AND target_level > reorder_point", name="ck_level_overrides"
        ),
        sa.PrimaryKeyConstraint("facility_id", "drug_code"),
    )
    op.create_table(
        "prescriptions",
        sa.Column("prescription_id", sa.String(length=64), nullable=False),
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.Column(
            "outcome",
            sa.String(length=20),
            nullable=False,
            comment="dispensed, partial or rejected.",
        ),
        sa.Column("total_amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("prescription_id"),
    )
    with op.batch_alter_table("prescriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prescriptions_facility_id"), ["facility_id"], unique=False
        )

    op.create_table(
        "referral_patients",
        sa.Column("referral_id", sa.String(length=64), nullable=False),
        sa.Column("patient_pseudonym", sa.String(length=64), nullable=False),
        sa.Column("to_facility_id", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("referral_id"),
    )
    op.create_table(
        "reservations",
        sa.Column("reservation_id", sa.String(length=64), nullable=False),
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.Column("drug_code", sa.String(length=64), nullable=False),
        sa.Column("referral_id", sa.String(length=64), nullable=False),
        sa.Column("patient_pseudonym", sa.String(length=64), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reserved_until", sa.Date(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("released_reason", sa.String(length=32), nullable=True),
        sa.Column("reserved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("quantity >= 0", name="ck_reservations_quantity"),
        sa.PrimaryKeyConstraint("reservation_id"),
        sa.UniqueConstraint("referral_id", "drug_code", name="uq_reservations_referral_drug"),
    )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reservations_item", ["facility_id", "drug_code", "active"], unique=False
        )

    op.create_table(
        "shortages",
        sa.Column("shortage_id", sa.String(length=64), nullable=False),
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.Column("drug_code", sa.String(length=64), nullable=False),
        sa.Column("quantity_short", sa.Integer(), nullable=False),
        sa.Column("prescription_id", sa.String(length=64), nullable=True),
        sa.Column("referral_id", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("quantity_short > 0", name="ck_shortages_quantity"),
        sa.PrimaryKeyConstraint("shortage_id"),
    )
    with op.batch_alter_table("shortages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_shortages_open", ["facility_id", "drug_code", "resolved_at"], unique=False
        )

    op.create_table(
        "stock_card_lines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.Column("drug_code", sa.String(length=64), nullable=False),
        sa.Column("lot_number", sa.String(length=64), nullable=False),
        sa.Column("expiry_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False, comment="Signed: credits +, debits -."),
        sa.Column(
            "balance_after", sa.Integer(), nullable=False, comment="The lot's balance after it."
        ),
        sa.Column("unit_cost", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("reference_type", sa.String(length=20), nullable=False),
        sa.Column("reference_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("balance_after >= 0", name="ck_stock_card_lines_balance"),
        sa.CheckConstraint("quantity <> 0", name="ck_stock_card_lines_moves"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("stock_card_lines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stock_card_item", ["facility_id", "drug_code", "id"], unique=False
        )
        batch_op.create_index(
            "ix_stock_card_kind_time",
            ["facility_id", "drug_code", "kind", "occurred_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_stock_card_reference", ["reference_type", "reference_id"], unique=False
        )

    op.create_table(
        "stock_items",
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.Column("drug_code", sa.String(length=64), nullable=False),
        sa.Column("stocked_out", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("facility_id", "drug_code"),
    )
    op.create_table(
        "stock_lots",
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.Column("drug_code", sa.String(length=64), nullable=False),
        sa.Column("lot_number", sa.String(length=64), nullable=False),
        sa.Column("expiry_date", sa.Date(), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("first_received_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("on_hand >= 0", name="ck_stock_lots_never_negative"),
        sa.PrimaryKeyConstraint("facility_id", "drug_code", "lot_number"),
    )
    with op.batch_alter_table("stock_lots", schema=None) as batch_op:
        batch_op.create_index("ix_stock_lots_expiry", ["expiry_date"], unique=False)

    op.create_table(
        "transfer_lines",
        sa.Column("transfer_id", sa.String(length=64), nullable=False),
        sa.Column("drug_code", sa.String(length=64), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("quantity_requested", sa.Integer(), nullable=False),
        sa.Column("quantity_approved", sa.Integer(), nullable=True),
        sa.Column("quantity_shipped", sa.Integer(), nullable=True),
        sa.CheckConstraint("quantity_requested > 0", name="ck_transfer_lines_qty"),
        sa.PrimaryKeyConstraint("transfer_id", "drug_code"),
    )
    op.create_table(
        "transfer_lots",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("transfer_id", sa.String(length=64), nullable=False),
        sa.Column("drug_code", sa.String(length=64), nullable=False),
        sa.Column("lot_number", sa.String(length=64), nullable=False),
        sa.Column("expiry_date", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_transfer_lots_qty"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("transfer_lots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transfer_lots_transfer_id"), ["transfer_id"], unique=False
        )

    op.create_table(
        "transfers",
        sa.Column("transfer_id", sa.String(length=64), nullable=False),
        sa.Column("from_facility_id", sa.String(length=64), nullable=False),
        sa.Column("to_facility_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("referral_id", sa.String(length=64), nullable=True),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("transfer_id"),
    )
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transfers_from_facility_id"), ["from_facility_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_transfers_state"), ["state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_transfers_to_facility_id"), ["to_facility_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfers_to_facility_id"))
        batch_op.drop_index(batch_op.f("ix_transfers_state"))
        batch_op.drop_index(batch_op.f("ix_transfers_from_facility_id"))

    op.drop_table("transfers")
    with op.batch_alter_table("transfer_lots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfer_lots_transfer_id"))

    op.drop_table("transfer_lots")
    op.drop_table("transfer_lines")
    with op.batch_alter_table("stock_lots", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_lots_expiry")

    op.drop_table("stock_lots")
    op.drop_table("stock_items")
    with op.batch_alter_table("stock_card_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_card_reference")
        batch_op.drop_index("ix_stock_card_kind_time")
        batch_op.drop_index("ix_stock_card_item")

    op.drop_table("stock_card_lines")
    with op.batch_alter_table("shortages", schema=None) as batch_op:
        batch_op.drop_index("ix_shortages_open")

    op.drop_table("shortages")
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_index("ix_reservations_item")

    op.drop_table("reservations")
    op.drop_table("referral_patients")
    with op.batch_alter_table("prescriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prescriptions_facility_id"))

    op.drop_table("prescriptions")
    op.drop_table("level_overrides")
    op.drop_table("expiry_scans")
    op.drop_table("drugs")
