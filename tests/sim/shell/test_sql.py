"""The mysql and psql clients of the database images: a small SQL subset kept in files."""

from __future__ import annotations

from typing import Any

from kclusterkit.sim.shell.interpreter import Context, Shell
from kclusterkit.sim.shell.sql import mysql, psql

MYSQL_ENV = {"MYSQL_ROOT_PASSWORD": "pw", "MYSQL_DATABASE": "app"}
PG_ENV = {"POSTGRES_PASSWORD": "pw"}


def run(fn: Any, files: dict[str, str], env: dict[str, str], *args: str
        ) -> tuple[int, str, list[str]]:
    ctx = Context(env=env, files=files)
    out: list[str] = []
    code = fn(Shell(ctx), list(args), "", out)
    return code, "".join(out), ctx.stderr_lines


def test_mysql_rows_live_in_the_data_directory() -> None:
    files: dict[str, str] = {}
    code, _, err = run(mysql, files, MYSQL_ENV, "-uroot", "-ppw", "app", "-e",
                       "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(9)); "
                       "INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    assert code == 0
    assert err == ["mysql: [Warning] Using a password on the command line interface can be "
                   "insecure."]
    assert "/var/lib/mysql/app/t.ibd" in files
    # Another client (another pod) over the same files sees the rows.
    again = dict(files)
    assert run(mysql, again, MYSQL_ENV, "-uroot", "-ppw", "-D", "app", "-e",
               "SELECT COUNT(*) FROM t")[:2] == (0, "COUNT(*)\n2\n")
    assert run(mysql, again, MYSQL_ENV, "-uroot", "-ppw", "-N", "-e",
               "SELECT name FROM app.t")[:2] == (0, "a\nb\n")


def test_mysql_errors_are_the_servers() -> None:
    files: dict[str, str] = {}
    code, _, err = run(mysql, files, MYSQL_ENV, "-uroot", "-pwrong", "-e", "SELECT 1")
    assert code == 1 and err[-1] == ("ERROR 1045 (28000): Access denied for user "
                                     "'root'@'localhost' (using password: YES)")
    code, _, err = run(mysql, files, MYSQL_ENV, "-uroot", "-ppw", "-e",
                       "SELECT COUNT(*) FROM t")
    assert err[-1] == "ERROR 1046 (3D000) at line 1: No database selected"
    code, _, err = run(mysql, files, MYSQL_ENV, "-uroot", "-ppw", "app", "-e",
                       "SELECT COUNT(*) FROM nope")
    assert err[-1] == "ERROR 1146 (42S02) at line 1: Table 'app.nope' doesn't exist"
    code, _, err = run(mysql, files, MYSQL_ENV, "-uroot", "-ppw", "app", "-e", "UPDATE t SET")
    assert code == 1 and err[-1].startswith("ERROR 1064 (42000) at line 1: You have an error")


def test_psql_prints_its_aligned_table_and_tags() -> None:
    files: dict[str, str] = {}
    assert run(psql, files, PG_ENV, "-U", "postgres", "-c",
               "CREATE TABLE items (id int, name text)")[:2] == (0, "CREATE TABLE\n")
    assert run(psql, files, PG_ENV, "-U", "postgres", "-c",
               "INSERT INTO items VALUES (1, 'x'), (2, 'yy')")[:2] == (0, "INSERT 0 2\n")
    assert run(psql, files, PG_ENV, "-U", "postgres", "-c",
               "SELECT count(*) FROM items")[1] == " count \n-------\n     2\n(1 row)\n\n"
    assert run(psql, files, PG_ENV, "-U", "postgres", "-c", "SELECT * FROM items")[1] == \
        " id | name \n----+------\n  1 | x\n  2 | yy\n(2 rows)\n\n"
    assert run(psql, files, PG_ENV, "-U", "postgres", "-tAc",
               "SELECT count(*) FROM items")[1] == "2\n"


def test_psql_errors_are_the_servers() -> None:
    files: dict[str, str] = {}
    code, _, err = run(psql, files, PG_ENV, "-c", "SELECT 1")
    assert code == 2 and err == ['psql: error: connection to server on socket '
                                 '"/var/run/postgresql/.s.PGSQL.5432" failed: FATAL:  role '
                                 '"root" does not exist']
    code, _, err = run(psql, files, PG_ENV, "-U", "postgres", "-c", "SELECT * FROM nope")
    assert code == 1 and err == ['ERROR:  relation "nope" does not exist',
                                 "LINE 1: SELECT * FROM nope", " " * 22 + "^"]
