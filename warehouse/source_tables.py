"""What ingest expects of each source system: tables, keys, change markers, and identifiers.

Taken from the system modules (``synthetic_sources/systems/``) wherever they export a
constant, so that a renamed marker or key there changes ingest too; the CRM and asset modules
declare their keys only inside ``build()``, so those are written out here, and ingest checks
every declaration against the key the source itself declares (SQLite ``PRIMARY KEY``, the
vendor-B manifest, the server's constraint) before loading, so drift stops the load with a
message instead of upserting by the wrong key.

Only the tables declared here are loaded: a table a vendor adds later is logged and left alone
until someone has looked at whether it holds personal identifiers.
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
    name: str  # as named in the source
    primary_key: tuple[str, ...]
    marker: str | None
    person: PersonTable | None = None

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


def _tables(keys: dict[str, list[str]], marker: str, person: dict[str, PersonTable]) -> dict[str, SourceTable]:
    return {name: SourceTable(name, tuple(pk), marker, person.get(name)) for name, pk in keys.items()}


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
    "crm": SourceSystem("crm", "crm", _tables(_CRM_KEYS, crm.MARKER, {
        "contact": PersonTable(
            ni="ni_no", first_name="first_name", surname="surname", dob="date_of_birth",
            dob_format=ISO_DATE_TIME, sex="sex", sex_codes={"M": "M", "F": "F"},
            record_key="contact_ref", extra_identifiers=("title",),
        ),
    }), server="postgresql"),
    "assets": SourceSystem("assets", "assets", _tables(_ASSET_KEYS, _ASSET_MARKER, {}), server="postgresql"),
    "care_a": SourceSystem("care_a", None, _tables(care_a.TABLE_KEYS, care_a.MARKER, {
        "Resident": PersonTable(
            ni="NINumber", first_name="Forename", surname="Surname", dob="DateOfBirth",
            dob_format=care_a.DATE_FORMAT, sex="Gender", sex_codes={"Male": "M", "Female": "F"},
            record_key="ResidentNo", key_prefixed_by_source=True,
        ),
    })),
    "care_b": SourceSystem("care_b", care_b.DATABASE, _tables(care_b.TABLE_KEYS, care_b.MARKER, {
        "client": PersonTable(
            ni="ni_no", first_name="first_name", surname="last_name", dob="birth_date",
            dob_format=care_b.DATE_FORMAT, sex="gender", sex_codes={"M": "M", "F": "F"},
            record_key="client_ref",
        ),
    }), server="mysql"),
    "domcare": SourceSystem("domcare", domcare.DATABASE, _tables(domcare.TABLE_KEYS, domcare.MARKER, {
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
