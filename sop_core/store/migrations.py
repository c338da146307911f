"""Numbered schema migrations of the plan store; each is applied once, in a transaction with its record."""

from __future__ import annotations

from sop_core.contract import TABLE_ORDER, TABLES

__all__ = ["MIGRATIONS"]


def _contract_tables_sql() -> str:
    parts = []
    for name in TABLE_ORDER:
        cols = ",\n    ".join(f"{c.name} {c.sql_type}" for c in TABLES[name].columns)
        parts.append(f"CREATE TABLE {name} (\n    {cols}\n);")
    return "\n".join(parts)


# Keys of contract tables are enforced by the importer (which names the offending rows),
# not by DuckDB constraints, so a whole table can be deleted and re-inserted in one transaction.
M001_BASE = (
    _contract_tables_sql()
    + """
CREATE SEQUENCE audit_id_seq;
CREATE TABLE audit_log (
    id BIGINT PRIMARY KEY DEFAULT nextval('audit_id_seq'),
    logged_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    user_name VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    item_key VARCHAR,
    old_value VARCHAR,
    new_value VARCHAR,
    detail VARCHAR
);
CREATE TABLE cycles (
    cycle VARCHAR PRIMARY KEY,
    status VARCHAR NOT NULL DEFAULT 'open',
    opened_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    opened_by VARCHAR,
    locked_at TIMESTAMP,
    locked_by VARCHAR
);
CREATE TABLE baseline (
    cycle VARCHAR NOT NULL,
    month VARCHAR NOT NULL,
    sku VARCHAR NOT NULL,
    units DOUBLE NOT NULL,
    model VARCHAR
);
CREATE SEQUENCE scenario_id_seq;
CREATE TABLE scenarios (
    id BIGINT PRIMARY KEY DEFAULT nextval('scenario_id_seq'),
    cycle VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    levers VARCHAR NOT NULL,
    author VARCHAR,
    note VARCHAR,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    version INTEGER NOT NULL DEFAULT 1,
    promoted BOOLEAN NOT NULL DEFAULT false
);
CREATE SEQUENCE assumption_id_seq;
CREATE TABLE assumptions (
    id BIGINT PRIMARY KEY DEFAULT nextval('assumption_id_seq'),
    cycle VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    value VARCHAR,
    unit VARCHAR,
    owner VARCHAR,
    rationale VARCHAR,
    evidence VARCHAR,
    reviewed_at TIMESTAMP,
    reviewed_by VARCHAR,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE SEQUENCE decision_id_seq;
CREATE TABLE decisions (
    id BIGINT PRIMARY KEY DEFAULT nextval('decision_id_seq'),
    cycle VARCHAR NOT NULL,
    decision VARCHAR NOT NULL,
    owner VARCHAR,
    due VARCHAR,
    status VARCHAR NOT NULL DEFAULT 'open',
    answers VARCHAR,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    created_by VARCHAR,
    version INTEGER NOT NULL DEFAULT 1
);
"""
)

# The monthly rhythm (sop_core.meeting.cycles, register, decisions, planversions): the four steps of
# each cycle, the locked plan versions (inputs and results as Parquet), and the columns the
# register and the decision log need for history and two-editor safety.
M002_RHYTHM = """
CREATE TABLE cycle_steps (
    cycle VARCHAR NOT NULL,
    step VARCHAR NOT NULL,
    position INTEGER NOT NULL,
    title VARCHAR NOT NULL,
    owner VARCHAR,
    due DATE NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'not started',
    signed_by VARCHAR,
    signed_at TIMESTAMP,
    updated_at TIMESTAMP,
    updated_by VARCHAR,
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (cycle, step)
);
CREATE TABLE plan_versions (
    cycle VARCHAR PRIMARY KEY,
    locked_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    locked_by VARCHAR NOT NULL,
    scenario_name VARCHAR,
    levers VARCHAR NOT NULL,
    months VARCHAR NOT NULL,
    summary VARCHAR NOT NULL
);
CREATE TABLE plan_version_frames (
    cycle VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    n_rows INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (cycle, kind, name)
);
ALTER TABLE assumptions ADD COLUMN tolerance_pct DOUBLE;
ALTER TABLE assumptions ADD COLUMN created_at TIMESTAMP;
ALTER TABLE assumptions ADD COLUMN created_by VARCHAR;
ALTER TABLE assumptions ADD COLUMN updated_at TIMESTAMP;
ALTER TABLE assumptions ADD COLUMN updated_by VARCHAR;
ALTER TABLE decisions ADD COLUMN origin_cycle VARCHAR;
ALTER TABLE decisions ADD COLUMN note VARCHAR;
ALTER TABLE decisions ADD COLUMN updated_at TIMESTAMP;
ALTER TABLE decisions ADD COLUMN updated_by VARCHAR;
"""

M003_CONSENSUS = """
CREATE TABLE consensus_choices (
    cycle VARCHAR NOT NULL,
    family VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    weights VARCHAR,
    adjustment_pct DOUBLE NOT NULL DEFAULT 0,
    reason VARCHAR NOT NULL,
    author VARCHAR,
    updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (cycle, family)
);
"""

# Who may change what (sop_core.meeting.roles): one role per signed-in email, managed by an admin.
M004_ROLES = """
CREATE TABLE user_roles (
    email VARCHAR PRIMARY KEY,
    role VARCHAR NOT NULL,
    granted_by VARCHAR,
    granted_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
"""

# The plan of record: a lock forced past unsigned steps keeps its reason; an assumption of the
# register may be linked to the setting or lever it stands for (sop_core.meeting.register).
M005_RECORD = """
ALTER TABLE plan_versions ADD COLUMN lock_note VARCHAR;
ALTER TABLE assumptions ADD COLUMN link VARCHAR;
"""

# The statistical baseline's 80 % band (sop_core.forecasting.baseline): rows stored before it
# have none.
M006_BASELINE_BAND = """
ALTER TABLE baseline ADD COLUMN p10 DOUBLE;
ALTER TABLE baseline ADD COLUMN p90 DOUBLE;
"""

# Sign-in hardening (docs/SECURITY.md): a role is bound to the provider's account (issuer,
# subject) on its first sign-in; a sign-in that was signed out is not accepted again.
M007_SIGN_IN_BINDING = """
ALTER TABLE user_roles ADD COLUMN issuer VARCHAR;
ALTER TABLE user_roles ADD COLUMN subject VARCHAR;
ALTER TABLE user_roles ADD COLUMN bound_at TIMESTAMP;
CREATE TABLE signed_out (
    issuer VARCHAR NOT NULL,
    subject VARCHAR NOT NULL,
    issued_at BIGINT NOT NULL,
    signed_out_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (issuer, subject, issued_at)
);
"""

# The performance review (sop_core.views.review): what finance booked month by month, a decision's
# expected effect (a measure, a value, a month, and the scenario it came from if any) and the
# verdict once actuals cover that month. ``origin_id`` follows a decision carried into later
# cycles, so it is judged once. A fresh store already has financial_actuals from migration 1
# (which creates every table of the contract as it stands), hence IF NOT EXISTS.
M008_REVIEW = """
CREATE TABLE IF NOT EXISTS financial_actuals (
    month VARCHAR,
    revenue DOUBLE,
    gross_margin DOUBLE,
    operating_profit DOUBLE,
    closing_cash DOUBLE,
    receivables DOUBLE,
    payables DOUBLE,
    inventory_value DOUBLE
);
ALTER TABLE decisions ADD COLUMN origin_id BIGINT;
ALTER TABLE decisions ADD COLUMN expected_measure VARCHAR;
ALTER TABLE decisions ADD COLUMN expected_value DOUBLE;
ALTER TABLE decisions ADD COLUMN expected_month VARCHAR;
ALTER TABLE decisions ADD COLUMN expected_scenario VARCHAR;
CREATE TABLE decision_verdicts (
    decision_key BIGINT PRIMARY KEY,
    taken_in VARCHAR NOT NULL,
    measure VARCHAR NOT NULL,
    month VARCHAR NOT NULL,
    plan_value DOUBLE,
    expected_value DOUBLE NOT NULL,
    actual_value DOUBLE NOT NULL,
    verdict VARCHAR NOT NULL,
    judged_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    judged_by VARCHAR NOT NULL
);
"""

# The product lifecycle (PRODUCT.md): launch and end months, the like-for-like sku and its share.
# A store created after the contract gained them has them from migration 1 (which follows the
# contract), hence IF NOT EXISTS.
M009_PRODUCT_LIFECYCLE = """
ALTER TABLE products ADD COLUMN IF NOT EXISTS launch_month VARCHAR;
ALTER TABLE products ADD COLUMN IF NOT EXISTS end_month VARCHAR;
ALTER TABLE products ADD COLUMN IF NOT EXISTS like_sku VARCHAR;
ALTER TABLE products ADD COLUMN IF NOT EXISTS like_share DOUBLE;
"""

# The board paper (sop_core.meeting.commentary): each section's commentary per cycle, who wrote it
# and when; a guarded edit (version) so two editors never overwrite each other unseen.
M010_BOARD_COMMENTARY = """
CREATE TABLE board_commentary (
    cycle VARCHAR NOT NULL,
    section VARCHAR NOT NULL,
    body VARCHAR NOT NULL,
    written_by VARCHAR NOT NULL,
    written_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (cycle, section)
);
"""

# (number, name, sql): append only; never edit a migration that has shipped.
MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "contract tables, audit log, cycles, baseline, scenarios, assumptions, decisions",
        M001_BASE,
    ),
    (
        2,
        "monthly rhythm: cycle steps, locked plan versions, register and decision log columns",
        M002_RHYTHM,
    ),
    (3, "consensus choices per cycle and family", M003_CONSENSUS),
    (4, "roles: email to role", M004_ROLES),
    (
        5,
        "plan of record: lock override note, assumptions linked to settings and levers",
        M005_RECORD,
    ),
    (6, "baseline: the 80 % band p10, p90", M006_BASELINE_BAND),
    (
        7,
        "sign-in: a role bound to the provider's account; signed-out sign-ins",
        M007_SIGN_IN_BINDING,
    ),
    (
        8,
        "performance review: financial actuals, decisions' expected effects and verdicts",
        M008_REVIEW,
    ),
    (
        9,
        "product lifecycle: launch and end months, like-for-like sku and share",
        M009_PRODUCT_LIFECYCLE,
    ),
    (10, "board paper: commentary per cycle and section", M010_BOARD_COMMENTARY),
]
