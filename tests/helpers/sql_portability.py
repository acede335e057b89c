"""Reject SQL that SQL Server (production) cannot run: a scanner for compiled dbt SQL.

SQL Server cannot run here, so CI compiles every model for it (`dbt compile --target sqlserver`)
and scans the compiled SQL for the constructs our portable-SQL rules forbid
(docs/conventions.md, convention 2) and for the common PostgreSQL/DuckDB habits T-SQL
lacks. It is a lexical check, not a parser: string literals, comments and quoted identifiers
are blanked first (positions kept, so line numbers hold), then each rule's pattern is searched.

    from tests.sql_portability import scan_sql, scan_paths
    for v in scan_sql(sql):
        print(v)            # "line 3: limit - LIMIT: SQL Server has TOP / OFFSET ... FETCH"
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    line: int
    excerpt: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.rule} - {self.message} [{self.excerpt}]"


# (rule, pattern on the blanked, lower-cased SQL, message)
_PATTERNS: list[tuple[str, str, str]] = [
    ("double_colon_cast", r"::", "PostgreSQL/DuckDB cast operator ::; use cast(x as type)"),
    ("pipe_concat", r"\|\|", "|| concatenation; use dbt.concat (CONCAT on SQL Server)"),
    ("limit", r"\blimit\b", "LIMIT; SQL Server has TOP / OFFSET ... FETCH"),
    ("qualify", r"\bqualify\b", "QUALIFY; filter a window function in an outer query"),
    ("ilike", r"\bilike\b", "ILIKE; use lower(x) like lower(y)"),
    ("group_by_all", r"\bgroup\s+by\s+all\b", "GROUP BY ALL; name the columns"),
    ("boolean_literal", r"\b(true|false)\b", "boolean literal; SQL Server has none (flags are 0/1 integers)"),
    ("boolean_type", r"\bas\s+(boolean|bool)\b", "boolean type; SQL Server has none (use 0/1 integers)"),
    ("text_type", r"\bas\s+text\b", "TEXT type (deprecated on SQL Server); use dbt.type_string()"),
    ("varchar_without_length", r"\bas\s+n?varchar\s*\)",
     "CAST to varchar without a length is varchar(30) on SQL Server; give a length or use dbt.type_string()"),
    ("nested_with", r"\(\s*with\b", "WITH inside a subquery; SQL Server allows CTEs only at the top of a statement"),
    ("integer_division", r"(?<![/*])/\s*[0-9]+(?![0-9.e])",
     "division by an integer literal is integer division on SQL Server; write 7.0, or cast"),
    ("regex_operator", r"!?~\*?\s*'", "regular-expression operator ~; SQL Server has none"),
    ("similar_to", r"\bsimilar\s+to\b", "SIMILAR TO; SQL Server has none"),
    ("is_distinct_from", r"\bis\s+(not\s+)?distinct\s+from\b", "IS [NOT] DISTINCT FROM needs SQL Server 2022"),
    ("nulls_ordering", r"\bnulls\s+(first|last)\b", "NULLS FIRST/LAST; order by a CASE instead"),
    ("distinct_on", r"\bdistinct\s+on\s*\(", "DISTINCT ON; use row_number() in a CTE"),
    ("join_using", r"\bjoin\b[^;()]*?\busing\s*\(", "JOIN ... USING; SQL Server needs ON"),
    ("natural_join", r"\bnatural\s+join\b", "NATURAL JOIN; SQL Server has none"),
    ("lateral", r"\blateral\b", "LATERAL; SQL Server uses CROSS/OUTER APPLY"),
    ("filter_clause", r"\bfilter\s*\(\s*where\b", "aggregate FILTER (WHERE ...); use a CASE inside the aggregate"),
    ("interval_literal", r"\binterval\s+'", "INTERVAL literal; use dbt.dateadd"),
    ("current_date", r"\bcurrent_date\b", "CURRENT_DATE; use cast(current_timestamp as date)"),
    ("select_star_modifier", r"\*\s*(exclude|replace|rename)\s*\(", "SELECT * EXCLUDE/REPLACE (DuckDB only)"),
    ("returning", r"\breturning\b", "RETURNING; SQL Server uses OUTPUT"),
]

# functions SQL Server (2017, the adapter's minimum) does not have, with what to use instead
_MISSING_FUNCTIONS = {
    "date_trunc": "dbt.date_trunc", "date_part": "datepart / dbt macros", "to_date": "llif.parse_date",
    "to_char": "format / convert", "to_timestamp": "llif.parse_timestamp", "strptime": "llif.parse_date",
    "try_strptime": "llif.parse_date", "strftime": "format / convert", "make_date": "datefromparts",
    "extract": "datepart", "split_part": "dbt.split_part", "regexp_replace": "no regex on SQL Server",
    "regexp_matches": "no regex on SQL Server", "regexp_like": "no regex on SQL Server",
    "regexp_extract": "no regex on SQL Server", "regexp_substr": "no regex on SQL Server",
    "ifnull": "coalesce", "nvl": "coalesce", "length": "dbt.length (len)", "substr": "substring",
    "greatest": "a CASE (GREATEST needs SQL Server 2022)", "least": "a CASE (LEAST needs SQL Server 2022)",
    "generate_series": "a numbers table", "unnest": "cross apply", "array_agg": "string_agg / dbt.listagg",
    "list_agg": "dbt.listagg", "now": "current_timestamp", "age": "dbt.datediff", "epoch": "dbt.datediff",
    "date_diff": "dbt.datediff", "date_add": "dbt.dateadd", "median": "percentile_cont",
    "bool_and": "min of a 0/1 flag", "bool_or": "max of a 0/1 flag", "any_value": "dbt.any_value",
    "pg_input_is_valid": "try_cast", "to_number": "try_cast",
}
_FUNCTION_RE = re.compile(r"\b(" + "|".join(sorted(_MISSING_FUNCTIONS, key=len, reverse=True)) + r")\s*\(")

_CTE_START = re.compile(r"\bwith\s+(recursive\s+)?([a-z_][a-z0-9_]*|\"[^\"]*\"|\[[^\]]*\])\s*(\([^()]*\)\s*)?as\s*\(")
_COMPARISON = re.compile(r"(<>|!=|<=|>=|(?<![-=<>!])=(?!>)|(?<![-<])<(?![=>])|(?<![-=<>])>(?!=)|"
                         r"\bis\s+(not\s+)?null\b|\blike\b|\bin\s*\(|\bbetween\b|\band\b|\bor\b|\bnot\b|\bexists\b)")


# ---------------------------------------------------------------------------------------------
# lexing: blank out what must not be matched, keeping offsets


def blank_literals(sql: str) -> str:
    """The SQL with comments, string literals and quoted identifiers' contents replaced by spaces.

    Quotes stay (so `'x'` becomes `' '`, still a literal for the rules that look for one);
    newlines stay, so offsets and line numbers are the original's.
    """
    out = list(sql)
    i, n = 0, len(sql)

    def blank(a: int, b: int) -> None:
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = sql[i]
        if c == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif c == "/" and sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            blank(i, j)
            i = j
        elif c in ("'", '"', "["):
            close = {"'": "'", '"': '"', "[": "]"}[c]
            j = i + 1
            while j < n:
                if sql[j] == close:
                    if close != "]" and j + 1 < n and sql[j + 1] == close:  # '' or "" escape
                        j += 2
                        continue
                    break
                j += 1
            blank(i + 1, min(j, n))
            i = j + 1
        else:
            i += 1
    return "".join(out)


def _matching_paren(text: str, open_at: int) -> int:
    depth = 0
    for k in range(open_at, len(text)):
        if text[k] == "(":
            depth += 1
        elif text[k] == ")":
            depth -= 1
            if depth == 0:
                return k
    return len(text) - 1


def _split_top_level(text: str, sep: str = ",") -> list[tuple[int, str]]:
    """Pieces of `text` split on `sep` outside parentheses, with their offsets."""
    parts, depth, start = [], 0, 0
    for k, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append((start, text[start:k]))
            start = k + 1
    parts.append((start, text[start:]))
    return parts


def _strip_case_and_windows(item: str) -> str:
    """An expression without its CASE ... END blocks, OVER (...) windows and (select ...) subqueries."""
    s = item
    while True:
        m = re.search(r"\bover\s*\(", s) or re.search(r"\(\s*select\b", s)
        if not m:
            break
        open_at = s.index("(", m.start())
        close = _matching_paren(s, open_at)
        s = s[: m.start()] + " " * (close + 1 - m.start()) + s[close + 1:]
    while True:
        tokens = list(re.finditer(r"\b(case|end)\b", s))
        start = next((t for t in tokens if t.group(1) == "case"), None)
        if start is None:
            break
        depth, stop = 0, None
        for t in tokens:
            if t.start() < start.start():
                continue
            depth += 1 if t.group(1) == "case" else -1
            if depth == 0:
                stop = t.end()
                break
        stop = len(s) if stop is None else stop
        s = s[: start.start()] + " " * (stop - start.start()) + s[stop:]
    return s


def _select_lists(text: str):
    """(offset, select list) for every SELECT in the blanked SQL."""
    for m in re.finditer(r"\bselect\b", text):
        depth, k = 0, m.end()
        while k < len(text):
            ch = text[k]
            if ch == "(":
                depth += 1
            elif ch == ")":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and re.match(r"\b(from|where|group|having|order|union|except|intersect|into)\b", text[k:]) \
                    and (k == 0 or not (text[k - 1].isalnum() or text[k - 1] == "_")):
                break
            k += 1
        yield m.end(), text[m.end():k]


# ---------------------------------------------------------------------------------------------
# the rules


def scan_sql(sql: str) -> list[Violation]:
    """Every construct in `sql` that SQL Server lacks or our portable-SQL rules forbid."""
    text = blank_literals(sql).lower()
    found: list[Violation] = []

    def add(rule: str, message: str, offset: int) -> None:
        line = text.count("\n", 0, offset) + 1
        raw_line = sql.splitlines()[line - 1] if sql.splitlines() else ""
        found.append(Violation(rule, message, line, raw_line.strip()[:120]))

    for rule, pattern, message in _PATTERNS:
        for m in re.finditer(pattern, text):
            add(rule, message, m.start())

    for m in _FUNCTION_RE.finditer(text):
        # a column reference like t.length( is impossible; `extract` et al. only as calls
        name = m.group(1)
        add("missing_function", f"{name}() does not exist on SQL Server; use {_MISSING_FUNCTIONS[name]}", m.start())

    # GROUP BY 1, 2: ordinals in a GROUP BY list
    for m in re.finditer(r"\bgroup\s+by\b", text):
        rest = text[m.end():]
        stop = re.search(r"\b(having|order|union|except|intersect|window)\b|\)|;", rest)
        group_list = rest[: stop.start()] if stop else rest
        for offset, item in _split_top_level(group_list):
            if re.fullmatch(r"\s*[0-9]+\s*", item):
                add("group_by_ordinal", "GROUP BY a column number; name the columns", m.end() + offset)

    # nested WITH: a second WITH ... AS ( anywhere in one statement
    for statement_offset, statement in _split_top_level(text, ";"):
        ctes = list(_CTE_START.finditer(statement))
        for extra in ctes[1:]:
            add("nested_with", "a second WITH in one statement; SQL Server allows one CTE list at the top",
                statement_offset + extra.start())

    # boolean expressions as columns: a comparison left in a select-list item once its CASE
    # blocks, windows and subqueries are set aside (iif() takes a condition legitimately)
    for offset, select_list in _select_lists(text):
        for item_offset, item in _split_top_level(select_list):
            if re.search(r"\biif\s*\(", item):
                continue
            stripped = _strip_case_and_windows(item)
            if _COMPARISON.search(stripped):
                add("boolean_column", "a boolean expression as a column; SQL Server has no boolean type "
                    "(use case when ... then 1 else 0 end)", offset + item_offset + (len(item) - len(item.lstrip())))
    return sorted(found, key=lambda v: (v.line, v.rule))


def scan_paths(paths) -> dict[Path, list[Violation]]:
    """Violations per .sql file under the given files or folders (files without any omitted)."""
    out: dict[Path, list[Violation]] = {}
    for p in paths:
        p = Path(p)
        files = sorted(p.rglob("*.sql")) if p.is_dir() else [p]
        for f in files:
            v = scan_sql(f.read_text(encoding="utf-8"))
            if v:
                out[f] = v
    return out


def report(violations: dict[Path, list[Violation]], root: Path | None = None) -> str:
    lines = []
    for path, found in violations.items():
        name = path.relative_to(root) if root else path
        for v in found:
            lines.append(f"{name}: {v}")
    return "\n".join(lines)
