"""What dbt gives a model at compile time, for sqlfluff's jinja templater (the lint only).

Why not sqlfluff's dbt templater: it must compile the project against a live profile (a
warehouse file or server) and pins another sqlfluff release; the jinja templater with this
small library lints offline in seconds. sqlfluff puts every public name here into the template
context (``library_path`` in dbt_project/.sqlfluff), ahead of its own dbt built-ins (``ref``,
``source``, ``config``, ``this``, ``return``). What this adds:

- ``var``: the project's real vars from dbt_project.yml, and ``llif_offline_compile: full``
  so the incremental macros answer offline, as the SQL Server compile in CI does
  (macros/is_incremental.sql), instead of asking a database;
- ``adapter.dispatch``: the project's own macros, ``duckdb__`` form first, then ``default__``,
  as dbt resolves them for the embedded target; ``llif.<macro>`` the same names by namespace;
- ``dbt.<macro>``: dbt's cross-database macros in the DuckDB form, written out (their text
  only has to parse: lint findings inside templated code are ignored);
- ``exceptions.raise_compiler_error``: a templating error, so the lint fails where dbt would;
- ``execute``, ``flags``: an offline ``dbt compile``, so nothing asks a database.

This package is read by sqlfluff only; dbt ignores the folder and nothing in llif imports it.
"""

from pathlib import Path as _Path

import yaml as _yaml
from jinja2 import pass_context as _pass_context

_PROJECT = _Path(__file__).resolve().parent.parent
_VARS = {**(_yaml.safe_load((_PROJECT / "dbt_project.yml").read_text()).get("vars") or {}),
         "llif_offline_compile": "full"}


def var(name, default=None):
    return _VARS.get(name, default)


def env_var(name, default=""):
    return default


# an offline compile: models that ask the warehouse only under `dbt run`/`build` (the ml
# models' segment join) render as `dbt compile` shows them
execute = False


class _Flags:
    WHICH = "compile"


flags = _Flags()


class _Target:
    type = name = "duckdb"
    schema = "main"
    database = "warehouse"


target = _Target()


def _macro(context, name):
    for candidate in (f"duckdb__{name}", f"default__{name}", name):
        found = context.get(candidate)
        if found is not None:
            return found
    raise NameError(f"no macro {name!r} (nor duckdb__/default__ form) in dbt_project/macros")


class _Adapter:
    @staticmethod
    @_pass_context
    def dispatch(context, macro_name, macro_namespace=None):
        return _macro(context, macro_name)

    @staticmethod
    def type():
        return "duckdb"

    @staticmethod
    def get_columns_in_relation(relation):
        return []

    @staticmethod
    def get_relation(database=None, schema=None, identifier=None):
        return None


adapter = _Adapter()


class _Namespace:
    """``llif.flag(...)``: the project's macro of that name."""

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)

        @_pass_context
        def call(context, *args, **kwargs):
            return _macro(context, name)(*args, **kwargs)

        return call


llif = _Namespace()


class _Exceptions:
    @staticmethod
    def raise_compiler_error(message):
        raise RuntimeError(f"dbt compiler error: {message}")

    @staticmethod
    def warn(message):
        return ""


exceptions = _Exceptions()


class _Dbt:
    """dbt's cross-database macros as dbt-duckdb renders them."""

    @staticmethod
    def type_bigint():
        return "bigint"

    @staticmethod
    def type_int():
        return "integer"

    @staticmethod
    def type_string():
        return "varchar"

    @staticmethod
    def type_timestamp():
        return "timestamp"

    @staticmethod
    def concat(fields):
        return " || ".join(fields)

    @staticmethod
    def hash(field):
        return f"md5(cast({field} as varchar))"

    @staticmethod
    def listagg(measure, delimiter_text="','", order_by_clause=None, limit_num=None):
        order = f" {order_by_clause}" if order_by_clause else ""
        return f"string_agg({measure}, {delimiter_text}{order})"

    @staticmethod
    def date_trunc(datepart, date):
        return f"date_trunc('{datepart}', {date})"

    @staticmethod
    def dateadd(datepart, interval, from_date_or_timestamp):
        return f"date_add({from_date_or_timestamp}, interval ({interval}) {datepart})"

    @staticmethod
    def datediff(first_date, second_date, datepart):
        return f"date_diff('{datepart}', {first_date}::timestamp, {second_date}::timestamp)"

    @staticmethod
    def last_day(date, datepart):
        return f"cast(date_trunc('{datepart}', {date}) + interval 1 {datepart} - interval 1 day as date)"

    @staticmethod
    def is_incremental():
        return False


dbt = _Dbt()
