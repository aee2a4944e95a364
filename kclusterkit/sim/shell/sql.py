"""The ``mysql`` and ``psql`` clients of the database images, over a tiny SQL subset.

A scenario that writes a row, replaces the database's pod and reads the row back needs the
rows to live in the data directory (``/var/lib/mysql``, ``$PGDATA``) — which is the claim's
volume when one is mounted there. Supported: CREATE DATABASE, USE (mysql), CREATE TABLE,
INSERT … VALUES, SELECT COUNT(*) / columns / * FROM t, DELETE FROM t, DROP TABLE; anything
else is the server's syntax error. Output follows each client's non-interactive format
(mysql's batch mode: tab-separated with a header; psql's aligned table with its
``(N rows)`` footer, or ``-t``/``-A``), errors carry the servers' codes and wording.
Each table is one file ``<datadir>/<db>/<table>.ibd`` (mysql) or
``$PGDATA/base/<db>/<table>`` (postgres): a header line of column names, then a JSON
array per row.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kclusterkit.sim.shell.interpreter import Shell

MYSQL_DATA = "/var/lib/mysql"
MYSQL_SYSTEM_DBS = ("information_schema", "mysql", "performance_schema", "sys")


class SqlError(Exception):
    def __init__(self, kind: str, name: str = "", detail: str = "") -> None:
        super().__init__(kind)
        self.kind, self.name, self.detail = kind, name, detail


# -- parsing --------------------------------------------------------------------------
def split_statements(sql: str) -> list[str]:
    out, cur, quote = [], [], ""
    for ch in sql:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
            cur.append(ch)
        elif ch == ";":
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return [s for s in out if s]


def _ident(text: str) -> str:
    return text.strip().strip("`\"")


def _split_top(text: str) -> list[str]:
    parts, depth, cur, quote = [], 0, [], ""
    for ch in text:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def _value(text: str) -> Any:
    text = text.strip()
    if text.upper() == "NULL":
        return None
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1].replace("''", "'")
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise SqlError("syntax", detail=text) from None


_CREATE_DB = re.compile(r"^create\s+(?:database|schema)\s+(if\s+not\s+exists\s+)?(\S+)$", re.I)
_USE = re.compile(r"^use\s+(\S+)$", re.I)
_CREATE_TABLE = re.compile(
    r"^create\s+table\s+(if\s+not\s+exists\s+)?([\w`\".]+)\s*\((.*)\)\s*[^)]*$", re.I | re.S)
_INSERT = re.compile(r"^insert\s+into\s+([\w`\".]+)\s*(\(([^)]*)\))?\s*values\s*(.*)$",
                     re.I | re.S)
_SELECT = re.compile(r"^select\s+(.+?)\s+from\s+([\w`\".]+)\s*$", re.I | re.S)
_DELETE = re.compile(r"^delete\s+from\s+([\w`\".]+)\s*$", re.I)
_DROP = re.compile(r"^drop\s+table\s+(if\s+exists\s+)?([\w`\".]+)\s*$", re.I)


class Database:
    """Tables kept as files under a data directory (the container's file view)."""

    def __init__(self, files: Any, root: str, table_suffix: str) -> None:
        self.files = files
        self.root = root.rstrip("/")
        self.suffix = table_suffix

    def _marker(self, db: str) -> str:
        return f"{self.root}/{db}/.kclusterkit-db"

    def exists(self, db: str) -> bool:
        prefix = f"{self.root}/{db}/"
        return any(path.startswith(prefix) for path in list(self.files))

    def create_db(self, db: str) -> None:
        self.files[self._marker(db)] = ""

    def path(self, db: str, table: str) -> str:
        return f"{self.root}/{db}/{table}{self.suffix}"

    def load(self, db: str, table: str) -> tuple[list[str], list[list[Any]]] | None:
        text = self.files.get(self.path(db, table))
        if text is None:
            return None
        lines = text.splitlines()
        return json.loads(lines[0]), [json.loads(line) for line in lines[1:] if line]

    def save(self, db: str, table: str, columns: list[str], rows: list[list[Any]]) -> None:
        body = [json.dumps(columns)] + [json.dumps(r) for r in rows]
        self.files[self.path(db, table)] = "\n".join(body) + "\n"

    def drop(self, db: str, table: str) -> None:
        del self.files[self.path(db, table)]


Result = tuple[str, list[str], list[list[Any]]] | tuple[str, int]


def execute(db: Database, current: str | None, stmt: str, fold_case: bool
            ) -> tuple[str | None, Any]:
    """Run one statement; returns (current database, result). Results: ("ok", tag, count),
    ("rows", headers, rows)."""
    if m := _CREATE_DB.match(stmt):
        name = _ident(m.group(2))
        if db.exists(name) and not m.group(1):
            raise SqlError("db_exists", name)
        db.create_db(name)
        return current, ("ok", "CREATE DATABASE", 1)
    if m := _USE.match(stmt):
        name = _ident(m.group(1))
        if not db.exists(name):
            raise SqlError("no_db", name)
        return name, ("ok", "USE", 0)

    def table_of(text: str) -> tuple[str, str]:
        name = _ident(text)
        if "." in name:
            schema, table = name.split(".", 1)
            return _ident(schema), _ident(table)
        if current is None:
            raise SqlError("no_db_selected")
        return current, name.lower() if fold_case else name

    if m := _CREATE_TABLE.match(stmt):
        dbname, table = table_of(m.group(2))
        if db.load(dbname, table) is not None:
            if m.group(1):
                return current, ("ok", "CREATE TABLE", 0)
            raise SqlError("table_exists", table)
        columns = []
        for part in _split_top(m.group(3)):
            word = part.split()[0] if part.split() else ""
            if word.upper() in ("PRIMARY", "KEY", "UNIQUE", "INDEX", "CONSTRAINT", "FOREIGN",
                                "CHECK"):
                continue
            columns.append(_ident(word).lower() if fold_case else _ident(word))
        if not columns:
            raise SqlError("syntax", detail=stmt)
        db.save(dbname, table, columns, [])
        return current, ("ok", "CREATE TABLE", 0)
    if m := _INSERT.match(stmt):
        dbname, table = table_of(m.group(1))
        loaded = db.load(dbname, table)
        if loaded is None:
            raise SqlError("no_table", table, dbname)
        columns, rows = loaded
        names = [_ident(c) for c in m.group(3).split(",")] if m.group(3) else columns
        tuples = re.findall(r"\(((?:[^()']|'[^']*')*)\)", m.group(4))
        if not tuples:
            raise SqlError("syntax", detail=m.group(4))
        for text in tuples:
            values = [_value(v) for v in _split_top(text)]
            if len(values) != len(names):
                raise SqlError("column_count")
            row = [None] * len(columns)
            for name, value in zip(names, values, strict=True):
                key = name.lower() if fold_case else name
                if key not in columns:
                    raise SqlError("no_column", name)
                row[columns.index(key)] = value
            rows.append(row)
        db.save(dbname, table, columns, rows)
        return current, ("ok", "INSERT", len(tuples))
    if m := _SELECT.match(stmt):
        dbname, table = table_of(m.group(2))
        loaded = db.load(dbname, table)
        if loaded is None:
            raise SqlError("no_table", table, dbname)
        columns, rows = loaded
        what = m.group(1).strip()
        if re.fullmatch(r"count\s*\(\s*\*\s*\)", what, re.I):
            return current, ("rows", [what], [[len(rows)]])
        if what == "*":
            return current, ("rows", columns, rows)
        picked = [_ident(c) for c in what.split(",")]
        index = []
        for name in picked:
            key = name.lower() if fold_case else name
            if key not in columns:
                raise SqlError("no_column", name)
            index.append(columns.index(key))
        return current, ("rows", picked, [[r[i] for i in index] for r in rows])
    if m := _DELETE.match(stmt):
        dbname, table = table_of(m.group(1))
        loaded = db.load(dbname, table)
        if loaded is None:
            raise SqlError("no_table", table, dbname)
        db.save(dbname, table, loaded[0], [])
        return current, ("ok", "DELETE", len(loaded[1]))
    if m := _DROP.match(stmt):
        dbname, table = table_of(m.group(2))
        if db.load(dbname, table) is None:
            if m.group(1):
                return current, ("ok", "DROP TABLE", 0)
            raise SqlError("no_table", table, dbname)
        db.drop(dbname, table)
        return current, ("ok", "DROP TABLE", 0)
    raise SqlError("syntax", detail=stmt)


# -- mysql ------------------------------------------------------------------------------
def _opts(args: list[str], with_value: dict[str, str], long: dict[str, str]
          ) -> tuple[dict[str, str], list[str]]:
    """Short options with attached or separate values, --long=value, positionals."""
    opts: dict[str, str] = {}
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--"):
            name, _, value = arg[2:].partition("=")
            if name in long:
                if not _ and i + 1 < len(args):
                    i += 1
                    value = args[i]
                opts[long[name]] = value
            else:
                opts[name] = value
        elif arg.startswith("-") and len(arg) > 1:
            # Bundled flags (-tAc …): the first one taking a value takes the rest, or the
            # next argument.
            for pos in range(1, len(arg)):
                flag = arg[pos]
                if flag not in with_value:
                    opts[flag] = ""
                    continue
                value = arg[pos + 1:]
                if not value and with_value[flag] != "optional" and i + 1 < len(args):
                    i += 1
                    value = args[i]
                opts[flag] = value
                break
        else:
            rest.append(arg)
        i += 1
    return opts, rest


def _mysql_error(exc: SqlError, db: str | None) -> str:
    if exc.kind == "no_table":
        return f"ERROR 1146 (42S02) at line 1: Table '{exc.detail}.{exc.name}' doesn't exist"
    if exc.kind == "table_exists":
        return f"ERROR 1050 (42S01) at line 1: Table '{exc.name}' already exists"
    if exc.kind == "db_exists":
        return (f"ERROR 1007 (HY000) at line 1: Can't create database '{exc.name}'; "
                "database exists")
    if exc.kind == "no_db":
        return f"ERROR 1049 (42000) at line 1: Unknown database '{exc.name}'"
    if exc.kind == "no_db_selected":
        return "ERROR 1046 (3D000) at line 1: No database selected"
    if exc.kind == "no_column":
        return f"ERROR 1054 (42S22) at line 1: Unknown column '{exc.name}' in 'field list'"
    if exc.kind == "column_count":
        return "ERROR 1136 (21S01) at line 1: Column count doesn't match value count at row 1"
    near = (exc.detail or "")[:80]
    return ("ERROR 1064 (42000) at line 1: You have an error in your SQL syntax; check the "
            "manual that corresponds to your MySQL server version for the right syntax to "
            f"use near '{near}' at line 1")


def mysql(sh: Shell, args: list[str], stdin: str, out: list[str]) -> int:
    opts, rest = _opts(args, {"u": "req", "p": "optional", "h": "req", "D": "req", "e": "req",
                              "P": "req"},
                       {"user": "u", "password": "p", "host": "h", "database": "D",
                        "execute": "e", "port": "P"})
    env = sh.ctx.env
    user = opts.get("u", "root")
    password = opts.get("p")
    if "p" in opts and password == "":
        sh.err("Enter password: ")
        sh.err("ERROR 1045 (28000): Access denied for user "
               f"'{user}'@'localhost' (using password: NO)")
        return 1
    if password:
        sh.err("mysql: [Warning] Using a password on the command line interface can be "
               "insecure.")
    accounts = {"root": env.get("MYSQL_ROOT_PASSWORD", env.get("MARIADB_ROOT_PASSWORD"))}
    if env.get("MYSQL_USER"):
        accounts[env["MYSQL_USER"]] = env.get("MYSQL_PASSWORD", "")
    if env.get("MYSQL_ALLOW_EMPTY_PASSWORD") and accounts["root"] is None:
        accounts["root"] = ""
    if user not in accounts or (accounts[user] or "") != (password or ""):
        sh.err(f"ERROR 1045 (28000): Access denied for user '{user}'@'localhost' "
               f"(using password: {'YES' if password else 'NO'})")
        return 1
    store = Database(sh.ctx.files, MYSQL_DATA, ".ibd")
    for name in (env.get("MYSQL_DATABASE"), env.get("MARIADB_DATABASE")):
        if name and not store.exists(name):
            store.create_db(name)
    current = opts.get("D") or (rest[0] if rest else None)
    if current and not (store.exists(current) or current in MYSQL_SYSTEM_DBS):
        sh.err(f"ERROR 1049 (42000): Unknown database '{current}'")
        return 1
    sql = opts.get("e", stdin)
    headers = "N" not in opts and "skip-column-names" not in opts
    for stmt in split_statements(sql):
        try:
            current, result = execute(store, current, stmt, fold_case=False)
        except SqlError as exc:
            sh.err(_mysql_error(exc, current))
            return 1
        if result[0] == "rows":
            _, cols, rows = result
            if rows or headers:
                if headers:
                    out.append("\t".join(cols) + "\n")
                for row in rows:
                    out.append("\t".join("NULL" if v is None else str(v) for v in row) + "\n")
    return 0


# -- psql -------------------------------------------------------------------------------
def _psql_error(exc: SqlError, stmt: str) -> list[str]:
    if exc.kind == "no_table":
        where = stmt.lower().find(exc.name.lower())
        lines = [f'ERROR:  relation "{exc.name}" does not exist', f"LINE 1: {stmt}"]
        if where >= 0:
            lines.append(" " * (8 + where) + "^")
        return lines
    if exc.kind == "table_exists":
        return [f'ERROR:  relation "{exc.name}" already exists']
    if exc.kind == "db_exists":
        return [f'ERROR:  database "{exc.name}" already exists']
    if exc.kind == "no_column":
        return [f'ERROR:  column "{exc.name}" of relation does not exist']
    if exc.kind == "column_count":
        return ["ERROR:  INSERT has more expressions than target columns"]
    word = (exc.detail or stmt).split()[0] if (exc.detail or stmt).split() else ""
    return [f'ERROR:  syntax error at or near "{word}"', f"LINE 1: {stmt}"]


def _psql_table(cols: list[str], rows: list[list[Any]]) -> list[str]:
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    numeric = [all(isinstance(r[i], int | float) for r in rows if r[i] is not None) and
               bool(rows) for i in range(len(cols))]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(cols)]
    header = "|".join(" " + c.center(w) + " " for c, w in zip(cols, widths, strict=True))
    lines = [header, "+".join("-" * (w + 2) for w in widths)]
    for row in cells:
        parts = [" " + (value.rjust(widths[i]) if numeric[i] else value.ljust(widths[i])) + " "
                 for i, value in enumerate(row)]
        # psql pads no column at the end of a data line.
        lines.append("|".join(parts).rstrip())
    lines.append(f"({len(rows)} row{'' if len(rows) == 1 else 's'})")
    lines.append("")
    return lines


def psql(sh: Shell, args: list[str], stdin: str, out: list[str]) -> int:
    opts, rest = _opts(args, {"U": "req", "d": "req", "c": "req", "h": "req", "p": "req"},
                       {"username": "U", "dbname": "d", "command": "c", "host": "h",
                        "port": "p"})
    env = sh.ctx.env
    owner = env.get("POSTGRES_USER", "postgres")
    user = opts.get("U") or env.get("PGUSER") or "root"
    socket = 'connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed'
    if user != owner:
        sh.err(f'psql: error: {socket}: FATAL:  role "{user}" does not exist')
        return 2
    pgdata = env.get("PGDATA", "/var/lib/postgresql/data")
    store = Database(sh.ctx.files, f"{pgdata}/base", "")
    default_db = env.get("POSTGRES_DB", owner)
    for name in ("postgres", default_db):
        if not store.exists(name):
            store.create_db(name)
    current = opts.get("d") or (rest[0] if rest else None) or user
    if not store.exists(current):
        sh.err(f'psql: error: {socket}: FATAL:  database "{current}" does not exist')
        return 2
    sql = opts.get("c", stdin)
    tuples_only = "t" in opts or "tuples-only" in opts
    unaligned = "A" in opts or "no-align" in opts
    for stmt in split_statements(sql):
        try:
            _, result = execute(store, current, stmt, fold_case=True)
        except SqlError as exc:
            for line in _psql_error(exc, stmt):
                sh.err(line)
            return 1
        if result[0] == "ok":
            _, tag, count = result
            if not tuples_only:
                out.append((f"INSERT 0 {count}" if tag == "INSERT" else
                            f"DELETE {count}" if tag == "DELETE" else tag) + "\n")
            continue
        _, cols, rows = result
        cols = ["count" if re.fullmatch(r"count\s*\(\s*\*\s*\)", c, re.I) else c.lower()
                for c in cols]
        if unaligned:
            if not tuples_only:
                out.append("|".join(cols) + "\n")
            out.extend("|".join("" if v is None else str(v) for v in r) + "\n" for r in rows)
            if not tuples_only:
                out.append(f"({len(rows)} row{'' if len(rows) == 1 else 's'})\n")
            continue
        table = _psql_table(cols, rows)
        if tuples_only:
            table = table[2:-2] + [""]
        out.extend(line + "\n" for line in table)
    return 0


APPLETS_BY_IMAGE = {"mysql": {"mysql": mysql}, "mariadb": {"mysql": mysql, "mariadb": mysql},
                    "postgres": {"psql": psql}}
