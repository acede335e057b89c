"""What ingest expects of each source system: tables, keys, change markers, and identifiers.

Taken from the system modules (``synthetic_sources/systems/``) wherever they export a
constant, so that a renamed marker or key there changes ingest too; the CRM and asset modules
declare their keys only inside ``build()``, so those are written out here, and ingest checks
every declaration against the key the source itself declares (SQLite ``PRIMARY KEY``, the
vendor-B manifest, the server's constraint) before loading, so drift stops the load with a
message instead of upserting by the wrong key.

Only the tables declared here are loaded: a table a vendor adds later is logged and left alone
until someone has looked at whether it holds personal identifiers. The same holds for columns
(``COLUMNS``): an undeclared one is held back from raw, a declared one missing stops its table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from synthetic_sources.systems import care_a, care_b, crm, domcare
from synthetic_sources.systems.base import SYSTEMS

# The writers store real timestamps as ISO 8601 text (writers/README.md), and every change
# marker is such a timestamp; the CRM keeps its dates of birth the same way.
ISO_DATE_TIME = "ISO8601"

LABELS = {
    "crm": "CRM",
    "assets": "asset management",
    "care_a": "care vendor A",
    "care_b": "care vendor B",
    "domcare": "domiciliary care",
}


@dataclass(frozen=True)
class PersonTable:
    """A person-level table: which columns identify someone, and how to read them.

    ``dropped`` never reach ``raw``; ``record_key`` is the column that, as text (prefixed with
    the home's database for vendor A), is the truth's ``source_records.record_key``.
    """

    ni: str
    first_name: str
    surname: str
    dob: str
    dob_format: str  # strptime format, or ISO_DATE_TIME
    sex: str
    sex_codes: dict[str, str]  # the vendor's code as text -> M / F
    record_key: str
    key_prefixed_by_source: bool = False
    extra_identifiers: tuple[str, ...] = ()  # e.g. the CRM's title

    @property
    def dropped(self) -> tuple[str, ...]:
        return (self.ni, self.first_name, self.surname, self.dob, *self.extra_identifiers)


@dataclass(frozen=True)
class SourceTable:
    """``columns``: every column ingest expects, as the source names it (``COLUMNS`` below). A
    column the source lacks stops the table's load; one it adds is held back (never in raw)
    until it is declared here, after someone has looked at whether it identifies a person."""

    name: str  # as named in the source
    primary_key: tuple[str, ...]
    marker: str | None
    person: PersonTable | None = None
    columns: tuple[str, ...] = ()
    dates: dict[str, str] = field(default_factory=dict, hash=False, compare=False)  # column -> form (DATES)

    def raw_name(self, system: str) -> str:
        return f"{system}__{self.name.lower()}"


@dataclass(frozen=True)
class SourceSystem:
    system: str
    database: str | None  # None for vendor A: one database per home, found on disk
    tables: dict[str, SourceTable] = field(default_factory=dict)
    server: str | None = None  # "postgresql" / "mysql"; None where the vendor has no server

    @property
    def label(self) -> str:
        return LABELS[self.system]


# Every column of every source table, in the source's order (issue 16: schema drift). Adding a
# column here is the decision that it may reach raw (or, for identifiers, list it in the
# table's PersonTable so it goes to identity only); the staging models read these names.
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "crm": {
        "contact": ("contact_ref", "title", "first_name", "surname", "sex", "date_of_birth", "ni_no",
                    "date_created", "last_updated"),
        "household": ("household_ref", "lead_contact_ref", "local_authority", "household_size", "date_created",
                      "last_updated"),
        "household_member": ("household_ref", "contact_ref", "relationship", "date_joined", "date_left",
                             "last_updated"),
        "application": ("application_ref", "household_ref", "contact_ref", "date_applied", "band", "need_type",
                        "offers_made", "status", "status_date", "tenancy_ref", "last_updated"),
        "tenancy": ("tenancy_ref", "household_ref", "contact_ref", "prop_ref", "tenancy_type", "let_type",
                    "application_ref", "tenancy_start", "tenancy_end", "end_reason_code", "last_updated"),
        "circumstance": ("circ_ref", "tenancy_ref", "contact_ref", "review_date", "review_type",
                         "employment_status", "benefit_type", "income_band", "arrears_band", "support_flag",
                         "wellbeing_score", "last_updated"),
    },
    "assets": {
        "SCHEME": ("SCHEME_ID", "SCHEME_NAME", "SCHEME_TYPE", "AREA_CODE", "POSTCODE", "CAPACITY", "RES_BEDS",
                   "NURS_BEDS", "OPENED_DATE", "CLOSED_DATE", "MODIFIED_DATE"),
        "PROPERTY": ("PROP_REF", "SCHEME_ID", "PROP_TYPE", "BEDROOMS", "ACCESSIBLE", "POSTCODE", "AVAILABLE_FROM",
                     "MODIFIED_DATE"),
        "VOID_PERIOD": ("VOID_ID", "PROP_REF", "VOID_START", "VOID_END", "VOID_REASON", "MODIFIED_DATE"),
    },
    "care_a": {
        "Home": ("HomeCode", "HomeName", "Postcode", "RegisteredBeds", "LastModified"),
        "Resident": ("ResidentNo", "Forename", "Surname", "DateOfBirth", "Gender", "NINumber", "DateCreated",
                     "LastModified"),
        "Stay": ("StayId", "ResidentNo", "CareType", "StayType", "AdmissionDate", "AdmittedFrom", "DischargeDate",
                 "DischargeReason", "LastModified"),
        "Assessment": ("AssessmentId", "StayId", "ResidentNo", "AssessmentDate", "AssessmentType",
                       "DependencyScore", "LastModified"),
        "Transfer": ("TransferId", "StayId", "ResidentNo", "TransferTo", "DateOut", "DateEnded", "Outcome",
                     "LastModified"),
    },
    "care_b": {
        "home": ("home_code", "home_name", "postcode", "beds", "updated_at"),
        "client": ("client_ref", "first_name", "last_name", "birth_date", "gender", "ni_no", "created_at",
                   "updated_at"),
        "placement": ("placement_id", "client_ref", "home_code", "care_level", "placement_type", "start_date",
                      "end_date", "updated_at"),
        "movement_event": ("event_id", "client_ref", "placement_id", "event_code", "event_ts", "location",
                           "updated_at"),
    },
    "domcare": {
        "service_user": ("service_user_id", "forename", "surname", "date_of_birth", "sex", "ni_number",
                         "created_on", "last_updated"),
        "package": ("package_id", "service_user_id", "team", "referral_date", "start_date", "end_date",
                    "planned_hours_per_week", "end_reason", "last_updated"),
        "suspension": ("suspension_id", "package_id", "reason", "suspended_from", "resumed_on", "last_updated"),
        "visit": ("visit_id", "package_id", "service_user_id", "carer_id", "planned_start", "planned_end",
                  "actual_start", "actual_end", "status", "tasks", "last_updated"),
    },
}


# The date and time columns and the form each vendor writes them in, as the staging models parse
# them (dbt_project/macros/parse_dates.sql): "iso" is an ISO 8601 date or date-time. A value
# that does not parse in its form is quarantined at ingest with its file, row and field, so one
# bad row never reaches a mart's not-null test (issue 16). Change markers are checked anyway;
# dates of birth go to identity, not raw.
ISO, DMY_SLASH, YMD_COMPACT = "iso", "dd/mm/yyyy", "yyyymmdd"
DATES: dict[str, dict[str, dict[str, str]]] = {
    "crm": {
        "contact": {"date_created": ISO},
        "household": {"date_created": ISO},
        "household_member": {"date_joined": ISO, "date_left": ISO},
        "application": {"date_applied": ISO, "status_date": ISO},
        "tenancy": {"tenancy_start": ISO, "tenancy_end": ISO},
        "circumstance": {"review_date": ISO},
    },
    "assets": {
        "SCHEME": {"OPENED_DATE": ISO, "CLOSED_DATE": ISO},
        "PROPERTY": {"AVAILABLE_FROM": ISO},
        "VOID_PERIOD": {"VOID_START": ISO, "VOID_END": ISO},
    },
    "care_a": {
        "Home": {},
        "Resident": {"DateCreated": DMY_SLASH},
        "Stay": {"AdmissionDate": DMY_SLASH, "DischargeDate": DMY_SLASH},
        "Assessment": {"AssessmentDate": DMY_SLASH},
        "Transfer": {"DateOut": DMY_SLASH, "DateEnded": DMY_SLASH},
    },
    "care_b": {
        "home": {},
        "client": {"created_at": ISO},
        "placement": {"start_date": YMD_COMPACT, "end_date": YMD_COMPACT},
        "movement_event": {"event_ts": ISO},
    },
    "domcare": {
        "service_user": {"created_on": ISO},
        "package": {"referral_date": ISO, "start_date": ISO, "end_date": ISO},
        "suspension": {"suspended_from": ISO, "resumed_on": ISO},
        "visit": {"planned_start": ISO, "planned_end": ISO, "actual_start": ISO, "actual_end": ISO},
    },
}


def _tables(system: str, keys: dict[str, list[str]], marker: str,
            person: dict[str, PersonTable]) -> dict[str, SourceTable]:
    return {name: SourceTable(name, tuple(pk), marker, person.get(name), COLUMNS[system][name],
                              dict(DATES[system][name]))
            for name, pk in keys.items()}


_CRM_KEYS = {
    "contact": ["contact_ref"],
    "household": ["household_ref"],
    "household_member": ["household_ref", "contact_ref"],
    "application": ["application_ref"],
    "tenancy": ["tenancy_ref"],
    "circumstance": ["circ_ref"],
}
_ASSET_KEYS = {"SCHEME": ["SCHEME_ID"], "PROPERTY": ["PROP_REF"], "VOID_PERIOD": ["VOID_ID"]}
_ASSET_MARKER = "MODIFIED_DATE"

SOURCES: dict[str, SourceSystem] = {
    "crm": SourceSystem("crm", "crm", _tables("crm", _CRM_KEYS, crm.MARKER, {
        "contact": PersonTable(
            ni="ni_no", first_name="first_name", surname="surname", dob="date_of_birth",
            dob_format=ISO_DATE_TIME, sex="sex", sex_codes={"M": "M", "F": "F"},
            record_key="contact_ref", extra_identifiers=("title",),
        ),
    }), server="postgresql"),
    "assets": SourceSystem("assets", "assets", _tables("assets", _ASSET_KEYS, _ASSET_MARKER, {}), server="postgresql"),
    "care_a": SourceSystem("care_a", None, _tables("care_a", care_a.TABLE_KEYS, care_a.MARKER, {
        "Resident": PersonTable(
            ni="NINumber", first_name="Forename", surname="Surname", dob="DateOfBirth",
            dob_format=care_a.DATE_FORMAT, sex="Gender", sex_codes={"Male": "M", "Female": "F"},
            record_key="ResidentNo", key_prefixed_by_source=True,
        ),
    })),
    "care_b": SourceSystem("care_b", care_b.DATABASE, _tables("care_b", care_b.TABLE_KEYS, care_b.MARKER, {
        "client": PersonTable(
            ni="ni_no", first_name="first_name", surname="last_name", dob="birth_date",
            dob_format=care_b.DATE_FORMAT, sex="gender", sex_codes={"M": "M", "F": "F"},
            record_key="client_ref",
        ),
    }), server="mysql"),
    "domcare": SourceSystem("domcare", domcare.DATABASE, _tables("domcare", domcare.TABLE_KEYS, domcare.MARKER, {
        "service_user": PersonTable(
            ni="ni_number", first_name="forename", surname="surname", dob="date_of_birth",
            dob_format=domcare.DOB_FORMAT, sex="sex", sex_codes={"1": "M", "2": "F"},
            record_key="service_user_id",
        ),
    }), server="postgresql"),
}

assert tuple(SOURCES) == SYSTEMS, "every source system needs a declaration here"


def source_system(system: str) -> SourceSystem:
    try:
        return SOURCES[system]
    except KeyError:
        raise ValueError(
            f"llif: unknown source system {system!r}; expected one of {', '.join(SOURCES)}."
        ) from None
