"""Storage writers: put a source system's tables where the real system keeps them.

The system modules decide *what* a system holds; these writers decide only *where and how* it
is stored (SQLite files, vendor B's CSV export folder, or a PostgreSQL / MariaDB server) and
keep it up to date night by night. Layout for the ingest engineers: ``README.md`` here.
"""

from synthetic_sources.writers._common import TableWrite, TargetExistsError
from synthetic_sources.writers.embedded import (
    care_b_folder,
    database_path,
    export_files,
    read_care_b_latest,
    read_embedded_table,
    write_embedded,
)
from synthetic_sources.writers.server import (
    SourceServerUnreachable,
    check_reachable,
    mask_url,
    read_server_table,
    write_server,
)

__all__ = [
    "SourceServerUnreachable",
    "TableWrite",
    "TargetExistsError",
    "care_b_folder",
    "check_reachable",
    "database_path",
    "export_files",
    "mask_url",
    "read_care_b_latest",
    "read_embedded_table",
    "read_server_table",
    "write_embedded",
    "write_server",
]
