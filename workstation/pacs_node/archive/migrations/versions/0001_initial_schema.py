"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 01:03:55.304355
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("change_type", sa.String(length=32), nullable=False),
        sa.Column("study_instance_uid", sa.String(length=64), nullable=False),
        sa.Column("series_instance_uid", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_changes")),
    )
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_changes_study_instance_uid"), ["study_instance_uid"], unique=False
        )

    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("patient_name", sa.String(length=324), nullable=False),
        sa.Column("patient_name_key", sa.String(length=324), nullable=False),
        sa.Column("birth_date", sa.String(length=8), nullable=False),
        sa.Column("sex", sa.String(length=16), nullable=False),
        sa.Column("issuer_of_patient_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint(
            "patient_id",
            "patient_name_key",
            "birth_date",
            name=op.f("uq_patients_patient_id_patient_name_key_birth_date"),
        ),
    )
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patients_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_patients_patient_name_key"), ["patient_name_key"], unique=False
        )

    op.create_table(
        "patient_conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("existing_patient_pk", sa.Integer(), nullable=True),
        sa.Column("new_patient_pk", sa.Integer(), nullable=True),
        sa.Column("study_instance_uid", sa.String(length=64), nullable=False),
        sa.Column("sop_instance_uid", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.Column("detected_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["existing_patient_pk"],
            ["patients.id"],
            name=op.f("fk_patient_conflicts_existing_patient_pk_patients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["new_patient_pk"],
            ["patients.id"],
            name=op.f("fk_patient_conflicts_new_patient_pk_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_conflicts")),
    )
    with op.batch_alter_table("patient_conflicts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patient_conflicts_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "studies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_pk", sa.Integer(), nullable=False),
        sa.Column("study_instance_uid", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("patient_name_key", sa.String(length=324), nullable=False),
        sa.Column("study_date", sa.String(length=8), nullable=False),
        sa.Column("study_time", sa.String(length=16), nullable=False),
        sa.Column("accession_number", sa.String(length=64), nullable=False),
        sa.Column("study_id", sa.String(length=16), nullable=False),
        sa.Column("study_description", sa.String(length=324), nullable=False),
        sa.Column("study_description_key", sa.String(length=324), nullable=False),
        sa.Column("referring_physician", sa.String(length=324), nullable=False),
        sa.Column("referring_physician_key", sa.String(length=324), nullable=False),
        sa.Column("institution_name", sa.String(length=128), nullable=False),
        sa.Column("modalities_in_study", sa.String(length=128), nullable=False),
        sa.Column("character_set", sa.String(length=128), nullable=False),
        sa.Column("num_series", sa.Integer(), nullable=False),
        sa.Column("num_instances", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_pk"],
            ["patients.id"],
            name=op.f("fk_studies_patient_pk_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studies")),
        sa.UniqueConstraint("study_instance_uid", name=op.f("uq_studies_study_instance_uid")),
    )
    with op.batch_alter_table("studies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_studies_accession_number"), ["accession_number"], unique=False
        )
        batch_op.create_index("ix_studies_date_time", ["study_date", "study_time"], unique=False)
        batch_op.create_index(batch_op.f("ix_studies_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(
            "ix_studies_patient_name_key_date", ["patient_name_key", "study_date"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_studies_patient_pk"), ["patient_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_studies_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_pk", sa.Integer(), nullable=False),
        sa.Column("series_instance_uid", sa.String(length=64), nullable=False),
        sa.Column("modality", sa.String(length=16), nullable=False),
        sa.Column("series_number", sa.Integer(), nullable=True),
        sa.Column("series_description", sa.String(length=324), nullable=False),
        sa.Column("series_date", sa.String(length=8), nullable=False),
        sa.Column("series_time", sa.String(length=16), nullable=False),
        sa.Column("body_part_examined", sa.String(length=64), nullable=False),
        sa.Column("protocol_name", sa.String(length=64), nullable=False),
        sa.Column("manufacturer", sa.String(length=64), nullable=False),
        sa.Column("station_name", sa.String(length=64), nullable=False),
        sa.Column("frame_of_reference_uid", sa.String(length=64), nullable=False),
        sa.Column("num_instances", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_pk"],
            ["studies.id"],
            name=op.f("fk_series_study_pk_studies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series")),
        sa.UniqueConstraint("series_instance_uid", name=op.f("uq_series_series_instance_uid")),
    )
    with op.batch_alter_table("series", schema=None) as batch_op:
        batch_op.create_index("ix_series_modality_study", ["modality", "study_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_series_study_pk"), ["study_pk"], unique=False)

    op.create_table(
        "instances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_pk", sa.Integer(), nullable=False),
        sa.Column("sop_instance_uid", sa.String(length=64), nullable=False),
        sa.Column("sop_class_uid", sa.String(length=64), nullable=False),
        sa.Column("instance_number", sa.Integer(), nullable=True),
        sa.Column("number_of_frames", sa.Integer(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=True),
        sa.Column("columns", sa.Integer(), nullable=True),
        sa.Column("image_position_patient", sa.String(length=128), nullable=False),
        sa.Column("image_orientation_patient", sa.String(length=256), nullable=False),
        sa.Column("pixel_spacing", sa.String(length=64), nullable=False),
        sa.Column("slice_thickness", sa.Float(), nullable=True),
        sa.Column("slice_location", sa.Float(), nullable=True),
        sa.Column("acquisition_number", sa.Integer(), nullable=True),
        sa.Column("content_date", sa.String(length=8), nullable=False),
        sa.Column("content_time", sa.String(length=16), nullable=False),
        sa.Column("photometric_interpretation", sa.String(length=16), nullable=False),
        sa.Column("transfer_syntax_uid", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("calling_aet", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_pk"],
            ["series.id"],
            name=op.f("fk_instances_series_pk_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instances")),
        sa.UniqueConstraint("sop_instance_uid", name=op.f("uq_instances_sop_instance_uid")),
    )
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instances_series_pk"), ["series_pk"], unique=False)

    op.create_table(
        "attached_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_pk", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=32), nullable=False),
        sa.Column("relative_path", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("transfer_syntax_uid", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_pk"],
            ["instances.id"],
            name=op.f("fk_attached_files_instance_pk_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attached_files")),
        sa.UniqueConstraint("instance_pk", name=op.f("uq_attached_files_instance_pk")),
        sa.UniqueConstraint("uuid", name=op.f("uq_attached_files_uuid")),
    )


def downgrade() -> None:
    op.drop_table("attached_files")
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instances_series_pk"))

    op.drop_table("instances")
    with op.batch_alter_table("series", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_series_study_pk"))
        batch_op.drop_index("ix_series_modality_study")

    op.drop_table("series")
    with op.batch_alter_table("studies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_studies_updated_at"))
        batch_op.drop_index(batch_op.f("ix_studies_patient_pk"))
        batch_op.drop_index("ix_studies_patient_name_key_date")
        batch_op.drop_index(batch_op.f("ix_studies_patient_id"))
        batch_op.drop_index("ix_studies_date_time")
        batch_op.drop_index(batch_op.f("ix_studies_accession_number"))

    op.drop_table("studies")
    with op.batch_alter_table("patient_conflicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_conflicts_patient_id"))

    op.drop_table("patient_conflicts")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patients_patient_name_key"))
        batch_op.drop_index(batch_op.f("ix_patients_patient_id"))

    op.drop_table("patients")
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_changes_study_instance_uid"))

    op.drop_table("changes")
