"""The busybox ``sh`` grammar: words with their quoting, lists, pipelines, loops, ``if``.

Parsing is apart from running so the interpreter can be a live process (see
``interpreter``) while the grammar stays a plain function of the script text. What is
understood is what scenarios write in ``sh -c '…'``: ``;`` ``&&`` ``||`` ``|``, quoting,
redirections (``>`` ``>>`` ``<`` ``2>`` ``2>&1``), ``while``/``until``/``for``/``if`` and
``( … )`` groups; anything else is a syntax error worded as busybox ash words it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# -- lexing ---------------------------------------------------------------------------

_OPS = ("&&", "||", ";;", ">>", "2>&1", "2>", ";", "|", ">", "<", "&", "\n", "(", ")")
_KEYWORDS = {"while", "until", "do", "done", "for", "in", "if", "then", "elif", "else", "fi"}


class ShellSyntaxError(Exception):
    pass


@dataclass
class Word:
    parts: list[tuple[str, bool]]  # (text, expandable?) pieces; single quotes don't expand
    quoted: bool = False

    def raw(self) -> str:
        return "".join(t for t, _ in self.parts)


def tokenize(script: str) -> list[Word | str]:
    """Split a script into words and operator strings, keeping quoting information."""
    out: list[Word | str] = []
    i, n = 0, len(script)
    parts: list[tuple[str, bool]] = []
    quoted = False
    building = False

    def flush() -> None:
        nonlocal parts, quoted, building
        if building:
            out.append(Word(parts, quoted))
        parts, quoted, building = [], False, False

    while i < n:
        ch = script[i]
        if ch in " \t":
            flush()
            i += 1
            continue
        if ch == "#" and not building:
            while i < n and script[i] != "\n":
                i += 1
            continue
        if ch == "2" and not building and script.startswith("2>&1", i):
            flush()
            out.append("2>&1")
            i += 4
            continue
        if ch == "2" and not building and script.startswith("2>", i):
            flush()
            out.append("2>")
            i += 2
            continue
        op = next((o for o in _OPS if o != "2>&1" and o != "2>" and script.startswith(o, i)),
                  None)
        if op:
            flush()
            out.append(op)
            i += len(op)
            continue
        building = True
        if ch == "'":
            end = script.find("'", i + 1)
            if end < 0:
                raise ShellSyntaxError("unterminated quoted string")
            parts.append((script[i + 1:end], False))
            quoted = True
            i = end + 1
        elif ch == '"':
            j = i + 1
            buf = []
            while j < n and script[j] != '"':
                if script[j] == "\\" and j + 1 < n and script[j + 1] in '"\\$`':
                    buf.append(script[j + 1])
                    j += 2
                    continue
                buf.append(script[j])
                j += 1
            if j >= n:
                raise ShellSyntaxError("unterminated quoted string")
            parts.append(("".join(buf), True))
            quoted = True
            i = j + 1
        elif ch == "\\" and i + 1 < n:
            parts.append((script[i + 1], False))
            i += 2
        else:
            j = i
            while j < n and script[j] not in " \t'\"\\;&|<>()\n":
                j += 1
            parts.append((script[i:j], True))
            i = j
    flush()
    return out


# -- parsing --------------------------------------------------------------------------


@dataclass
class Simple:
    words: list[Word]
    redirects: list[tuple[str, Word | None]] = field(default_factory=list)


@dataclass
class Loop:
    until: bool
    cond: list[Any]
    body: list[Any]


@dataclass
class ForLoop:
    var: str
    items: list[Word]
    body: list[Any]


@dataclass
class IfCmd:
    branches: list[tuple[list[Any], list[Any]]]
    otherwise: list[Any] | None


# A list is [(pipeline, connector)] where pipeline is [command…] and connector the
# operator that follows it (";", "&&", "||" or "&").


class Parser:
    def __init__(self, tokens: list[Word | str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> Word | str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def keyword(self) -> str | None:
        tok = self.peek()
        if isinstance(tok, Word) and not tok.quoted and tok.raw() in _KEYWORDS:
            return tok.raw()
        return None

    def take(self) -> Word | str:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def expect_keyword(self, word: str) -> None:
        if self.keyword() != word:
            found = self.peek()
            shown = found.raw() if isinstance(found, Word) else (found or "end of file")
            raise ShellSyntaxError(f"syntax error: unexpected \"{shown}\" (expecting \"{word}\")")
        self.pos += 1

    def parse_list(self, stop: tuple[str, ...] = ()) -> list[Any]:
        items: list[Any] = []
        while True:
            while self.peek() in (";", "\n"):
                self.pos += 1
            tok = self.peek()
            if tok is None or tok == ")" or (self.keyword() in stop):
                return items
            pipeline = self.parse_pipeline()
            connector = ";"
            if self.peek() in ("&&", "||", ";", "\n", "&"):
                connector = str(self.take())
                if connector == "\n":
                    connector = ";"
                if connector in ("&&", "||"):
                    while self.peek() == "\n":
                        self.pos += 1
            items.append((pipeline, connector))

    def parse_pipeline(self) -> list[Any]:
        commands = [self.parse_command()]
        while self.peek() == "|":
            self.pos += 1
            commands.append(self.parse_command())
        return commands

    def parse_command(self) -> Any:
        kw = self.keyword()
        if kw in ("while", "until"):
            self.pos += 1
            cond = self.parse_list(("do",))
            self.expect_keyword("do")
            body = self.parse_list(("done",))
            self.expect_keyword("done")
            return Loop(kw == "until", cond, body)
        if kw == "for":
            self.pos += 1
            var = self.take()
            if not isinstance(var, Word):
                raise ShellSyntaxError("syntax error: bad for loop variable")
            items: list[Word] = []
            if self.keyword() == "in":
                self.pos += 1
                while isinstance(self.peek(), Word) and self.keyword() != "do":
                    items.append(self.take())  # type: ignore[arg-type]
            while self.peek() in (";", "\n"):
                self.pos += 1
            self.expect_keyword("do")
            body = self.parse_list(("done",))
            self.expect_keyword("done")
            return ForLoop(var.raw(), items, body)
        if kw == "if":
            self.pos += 1
            branches = []
            cond = self.parse_list(("then",))
            self.expect_keyword("then")
            body = self.parse_list(("elif", "else", "fi"))
            branches.append((cond, body))
            otherwise = None
            while True:
                kw2 = self.keyword()
                if kw2 == "elif":
                    self.pos += 1
                    cond = self.parse_list(("then",))
                    self.expect_keyword("then")
                    branches.append((cond, self.parse_list(("elif", "else", "fi"))))
                    continue
                if kw2 == "else":
                    self.pos += 1
                    otherwise = self.parse_list(("fi",))
                self.expect_keyword("fi")
                return IfCmd(branches, otherwise)
        if self.peek() == "(":
            self.pos += 1
            inner = self.parse_list()
            if self.peek() != ")":
                raise ShellSyntaxError("syntax error: missing ')'")
            self.pos += 1
            return IfCmd([([], inner)], None)
        words: list[Word] = []
        redirects: list[tuple[str, Word | None]] = []
        while True:
            tok = self.peek()
            if isinstance(tok, Word):
                if not words and self.keyword() in ("do", "done", "then", "fi", "else", "elif"):
                    break
                words.append(self.take())  # type: ignore[arg-type]
            elif tok in (">", ">>", "<", "2>"):
                op = str(self.take())
                target = self.take() if isinstance(self.peek(), Word) else None
                if target is None:
                    raise ShellSyntaxError("syntax error: unexpected redirection")
                redirects.append((op, target))  # type: ignore[arg-type]
            elif tok == "2>&1":
                self.pos += 1
                redirects.append(("2>&1", None))
            else:
                break
        if not words and not redirects:
            found = self.peek()
            raise ShellSyntaxError(f'syntax error: unexpected "{found}"')
        return Simple(words, redirects)


def parse(script: str) -> list[Any]:
    parser = Parser(tokenize(script))
    items = parser.parse_list()
    if parser.peek() is not None:
        raise ShellSyntaxError(f'syntax error: unexpected "{parser.peek()}"')
    return items
