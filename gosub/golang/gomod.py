"""Just enough go.mod reading for the module zip and the proxy: ports from Go.

Sources (go1.27.3; x/mod as vendored under ``src/cmd/vendor``, = golang/mod fe2ec04):

- ``golang.org/x/mod/modfile/read.go``: :func:`module_path` (``ModulePath``) and the
  lexer/parser behind :func:`go_version`;
- ``golang.org/x/mod/modfile/rule.go``: ``ParseLax`` (the checks that can make it fail),
  ``MustQuote``/``AutoQuote``;
- ``go/version`` and ``internal/gover``: :func:`lang`, :func:`compare`, :func:`is_valid`;
- ``cmd/go/internal/modfetch/coderepo.go``: :func:`legacy_go_mod` (``LegacyGoMod``);
- ``strconv/quote.go``: ``Unquote`` (used by both go.mod readers).

Strings. Go strings are bytes. go.mod data is decoded here with ``surrogateescape``, so a
returned ``str`` holding lone surrogates stands for a Go string that is not valid UTF-8
(see :func:`gosub.golang.semver.go_bytes`); bytes that are not valid UTF-8 are read the way Go's
``utf8.DecodeRune`` reads them (one U+FFFD per byte).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gosub.golang.module import (
    InvalidVersionError,
    canonical_version,
    check_path_major,
    go_quote,
    is_print,
    split_path_version,
)
from gosub.golang.semver import go_bytes

__all__ = [
    "auto_quote",
    "compare",
    "go_version",
    "is_valid",
    "lang",
    "legacy_go_mod",
    "module_path",
    "must_quote",
]

# unicode.IsSpace: the Latin-1 spaces plus the White_Space property above U+00FF.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"  # noqa: E501


def _decode(data: bytes) -> str:
    """Go string bytes to ``str`` (bytes that are not UTF-8 become lone surrogates)."""
    return data.decode("utf-8", "surrogateescape")


def _is_surrogate(ch: str) -> bool:
    """Whether ``ch`` stands for a byte that is not UTF-8 (a lone surrogate)."""
    return 0xD800 <= ord(ch) <= 0xDFFF


def _trim_space_bytes(b: bytes) -> bytes:
    """Go's ``bytes.TrimSpace``."""
    # bytes.TrimSpace: strip unicode.IsSpace runes from both ends (invalid UTF-8 is not space)
    return _decode(b).strip(_GO_SPACE).encode("utf-8", "surrogateescape")


# ---------------------------------------------------------------------------
# strconv.Unquote


def _decode_rune(s: bytes) -> tuple[int, int]:
    """utf8.DecodeRune for ``s[0] >= 0x80``: ``(rune, size)``, ``(0xFFFD, 1)`` if invalid."""
    # unicode/utf8: DecodeRune (Python's strict decoder rejects exactly what Go rejects:
    # overlong forms, surrogates, > U+10FFFF)
    for size in (2, 3, 4):
        try:
            text = s[:size].decode("utf-8")
        except UnicodeDecodeError:
            continue
        if len(text) == 1:
            return ord(text), size
    return 0xFFFD, 1


def _unhex(c: int) -> int | None:
    """strconv's ``unhex``: the value of one hex digit byte, or None."""
    # strconv/quote.go: unhex
    if 0x30 <= c <= 0x39:
        return c - 0x30
    if 0x61 <= c <= 0x66:
        return c - 0x61 + 10
    if 0x41 <= c <= 0x46:
        return c - 0x41 + 10
    return None


_SIMPLE_UNESCAPES = {
    ord("a"): 0x07,
    ord("b"): 0x08,
    ord("f"): 0x0C,
    ord("n"): 0x0A,
    ord("r"): 0x0D,
    ord("t"): 0x09,
    ord("v"): 0x0B,
    ord("\\"): 0x5C,
}


def _unquote_char(s: bytes, quote: int) -> tuple[int, bool, bytes] | None:
    """strconv.UnquoteChar: ``(value, multibyte, tail)``, or None for ErrSyntax."""
    # strconv/quote.go: UnquoteChar
    if not s:
        return None
    c = s[0]
    if c == quote and quote in (0x27, 0x22):
        return None
    if c >= 0x80:
        r, size = _decode_rune(s)
        return r, True, s[size:]
    if c != 0x5C:
        return c, False, s[1:]
    if len(s) <= 1:
        return None
    c = s[1]
    s = s[2:]
    if c in _SIMPLE_UNESCAPES:
        return _SIMPLE_UNESCAPES[c], False, s
    if c in b"xuU":
        n = {0x78: 2, 0x75: 4, 0x55: 8}[c]
        if len(s) < n:
            return None
        v = 0
        for j in range(n):
            x = _unhex(s[j])
            if x is None:
                return None
            v = v << 4 | x
        s = s[n:]
        if c == 0x78:  # 'x': a single byte, possibly not UTF-8
            return v, False, s
        if not (0 <= v < 0xD800 or 0xDFFF < v <= 0x10FFFF):  # utf8.ValidRune
            return None
        return v, True, s
    if 0x30 <= c <= 0x37:
        v = c - 0x30
        if len(s) < 2:
            return None
        for j in range(2):
            x = s[j] - 0x30
            if x < 0 or x > 7:
                return None
            v = (v << 3) | x
        s = s[2:]
        if v > 255:
            return None
        return v, False, s
    if c in (0x27, 0x22):
        if c != quote:
            return None
        return c, False, s
    return None


def _unquote(s: bytes) -> bytes | None:
    """strconv.Unquote of a ``"``- or backquote-quoted Go string; None for ErrSyntax."""
    # strconv/quote.go: Unquote, unquote(in, unescape=true)
    if len(s) < 2:
        return None
    quote = s[0]
    k = s.find(bytes([quote]), 1)
    if k < 0:
        return None
    end = k + 1  # position after the (optimistic) terminating quote
    if quote == 0x60:  # '`'
        if end != len(s):  # Unquote: trailing input is a syntax error
            return None
        return s[1 : end - 1].replace(b"\r", b"")
    if quote != 0x22:  # single-quoted runes never reach here from go.mod readers
        return None
    if b"\\" not in s[:end] and b"\n" not in s[:end]:
        body = s[1 : end - 1]
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            pass  # not valid UTF-8: take the slow path, which makes each bad byte U+FFFD
        else:
            return body if end == len(s) else None
    buf = bytearray()
    rest = s[1:]
    while rest and rest[0] != quote:
        res = _unquote_char(rest, quote)
        if rest[0] == 0x0A or res is None:
            return None
        r, multibyte, rest = res
        if r < 0x80 or not multibyte:
            buf.append(r & 0xFF)
        else:
            buf += chr(r).encode("utf-8")
    if not (rest and rest[0] == quote):
        return None
    rest = rest[1:]
    if rest:
        return None
    return bytes(buf)


# ---------------------------------------------------------------------------
# ModulePath


def module_path(data: bytes) -> str:
    """The module path declared in go.mod ``data``, or ``""`` if none is found.

    Go's ``modfile.ModulePath``: tolerant of everything but the ``module`` line itself. It
    takes the first line that (after cutting a ``//`` comment and trimming space) starts
    with ``module`` followed by space; the rest is the path, unquoted if it starts with
    ``"`` or a backquote (a bad quoted string gives ``""``). Note ``modulex`` is skipped
    but ``module`` followed by a Unicode space (U+00A0) is accepted, as in Go.
    """
    # modfile/read.go: ModulePath
    for line in data.split(b"\n"):
        i = line.find(b"//")
        if i >= 0:
            line = line[:i]
        line = _trim_space_bytes(line)
        if not line.startswith(b"module"):
            continue
        line = line[len(b"module") :]
        n = len(line)
        line = _trim_space_bytes(line)
        if len(line) == n or len(line) == 0:
            continue
        if line[0] in b'"`':
            p = _unquote(line)
            if p is None:
                return ""  # malformed quoted string or multiline module path
            return _decode(p)
        return _decode(line)
    return ""  # missing module path


# ---------------------------------------------------------------------------
# The go.mod lexer and parser (modfile/read.go), reduced to what decides whether
# ParseLax succeeds and what its go directive is.

_EOF = "EOF"
_EOLCOMMENT = "EOLCOMMENT"
_IDENT = "IDENT"
_STRING = "STRING"
_COMMENT = "COMMENT"
# Punctuation tokens (and "\n") use the character itself as their kind.


class _SyntaxError(Exception):
    """A parse error: Go's ``in.Error`` panic, or any ParseLax error. Internal."""


@dataclass
class _Token:
    """One token of the go.mod lexer: its kind and text."""

    kind: str
    text: str


def _is_eol(kind: str) -> bool:
    """Whether a token of this kind ends a line (EOF, an end-of-line comment, newline)."""
    # modfile/read.go: tokenKind.isEOL
    return kind in (_EOF, _EOLCOMMENT, "\n")


def _is_ident(ch: str) -> bool:
    """Whether ``ch`` can be part of an identifier token (modfile's ``isIdent``)."""
    # modfile/read.go: isIdent. unicode.IsSpace runes other than ' ' are not printable, so
    # "!IsSpace && IsPrint" is just IsPrint. A byte that is not UTF-8 decodes to U+FFFD,
    # which is printable.
    if ch in " ()[]{},":
        return False
    if _is_surrogate(ch):
        return True
    return is_print(ch)


def _lex(text: str) -> list[_Token]:
    """Tokenize a whole go.mod the way ``input.readToken`` does; raise on a lexer error.

    The Go lexer runs one token ahead of the parser, and the parser, unless it fails,
    consumes every token up to EOF; so lexing eagerly fails exactly when Go does.
    """
    # modfile/read.go: readToken, startToken, endToken
    toks: list[_Token] = []
    n = len(text)
    i = 0
    while True:
        comment = False
        # Skip past spaces, stopping at non-space or EOF.
        while i < n:
            c = text[i]
            if c in " \t\r":
                i += 1
                continue
            if text.startswith("//", i):
                # Is this comment the only thing on its line?
                line_start = text.rfind("\n", 0, i) + 1
                suffix = text[line_start:i].strip(_GO_SPACE) != ""
                j = text.find("\n", i)
                end = n if j < 0 else j + 1
                tok = text[i:end]
                # endToken: drop one trailing LF or CRLF
                tok = tok[:-2] if tok.endswith("\r\n") else tok.removesuffix("\n")
                toks.append(_Token(_EOLCOMMENT if suffix else _COMMENT, tok))
                i = end
                comment = True
                break
            if text.startswith("/*", i):
                raise _SyntaxError("mod files must use // comments (not /* */ comments)")
            break
        if comment:
            continue
        if i >= n:
            toks.append(_Token(_EOF, ""))
            return toks
        c = text[i]
        if c in "\n()[]{},":
            toks.append(_Token(c, c))
            i += 1
            continue
        if c in '"`':
            start = i
            i += 1
            while True:
                if i >= n:
                    raise _SyntaxError("unexpected EOF in string")
                if text[i] == "\n":
                    raise _SyntaxError("unexpected newline in string")
                c2 = text[i]
                i += 1
                if c2 == c:
                    break
                if c2 == "\\" and c != "`":
                    if i >= n:
                        raise _SyntaxError("unexpected EOF in string")
                    i += 1  # the escaped rune, whatever it is (even "\n")
            toks.append(_Token(_STRING, text[start:i]))
            continue
        if not _is_ident(c):
            raise _SyntaxError(f"unexpected input character {c!r}")
        start = i
        while i < n and _is_ident(text[i]):
            if text.startswith("//", i):
                break
            if text.startswith("/*", i):
                raise _SyntaxError("mod files must use // comments (not /* */ comments)")
            i += 1
        toks.append(_Token(_IDENT, text[start:i]))


@dataclass
class _Stmt:
    """A parsed ``Line`` (``lines is None``) or ``LineBlock``."""

    tokens: list[str]
    lines: list[list[str]] | None = None


@dataclass
class _Parser:
    """The go.mod parser over a token list; collects the statements."""

    toks: list[_Token]
    pos: int = 0
    stmts: list[_Stmt] = field(default_factory=list)

    def peek(self) -> str:
        """The kind of the next token."""
        return self.toks[self.pos].kind

    def lex(self) -> _Token:
        """Consume and return the next token."""
        tok = self.toks[self.pos]
        if self.pos < len(self.toks) - 1:  # at EOF, the lexer keeps returning EOF
            self.pos += 1
        return tok

    def parse_file(self) -> None:
        """Parse statements until EOF."""
        # modfile/read.go: parseFile (comment blocks carry no directives: dropped)
        while True:
            kind = self.peek()
            if kind in ("\n", _COMMENT):
                self.lex()
            elif kind == _EOF:
                return
            else:
                self.parse_stmt()

    def parse_stmt(self) -> None:
        """Parse one statement: a line, or a block opened by a trailing ``(``."""
        # modfile/read.go: parseStmt
        tokens = [self.lex().text]
        while True:
            tok = self.lex()
            if _is_eol(tok.kind):
                self.stmts.append(_Stmt(tokens))
                return
            if tok.kind == "(":
                nxt = self.peek()
                if _is_eol(nxt):
                    # Start of block: no more tokens on this line.
                    self.stmts.append(self.parse_line_block(tokens))
                    return
                if nxt == ")":
                    rparen = self.lex()
                    if _is_eol(self.peek()):
                        # Empty block.
                        self.lex()
                        self.stmts.append(_Stmt(tokens, []))
                        return
                    # '( )' in the middle of the line, not a block.
                    tokens += [tok.text, rparen.text]
                else:
                    # '(' in the middle of the line, not a block.
                    tokens.append(tok.text)
            else:
                tokens.append(tok.text)

    def parse_line_block(self, tokens: list[str]) -> _Stmt:
        """Parse the lines of a block up to its ``)``."""
        # modfile/read.go: parseLineBlock
        lines: list[list[str]] = []
        while True:
            kind = self.peek()
            if kind in (_EOLCOMMENT, "\n", _COMMENT):
                self.lex()
            elif kind == _EOF:
                raise _SyntaxError("syntax error (unterminated block)")
            elif kind == ")":
                self.lex()
                if not _is_eol(self.peek()):
                    raise _SyntaxError("syntax error (expected newline after closing paren)")
                self.lex()
                return _Stmt(tokens, lines)
            else:
                lines.append(self.parse_line())

    def parse_line(self) -> list[str]:
        """Parse one line inside a block."""
        # modfile/read.go: parseLine
        tokens = [self.lex().text]
        while True:
            tok = self.lex()
            if _is_eol(tok.kind):
                return tokens
            tokens.append(tok.text)


# modfile/rule.go: GoVersionRE, laxGoVersionRE
_GO_VERSION_RE = re.compile(r"([1-9][0-9]*)\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?([a-z]+[0-9]+)?")
_LAX_GO_VERSION_RE = re.compile(r"v?(([1-9][0-9]*)\.(0|[1-9][0-9]*))([^0-9].*)", re.DOTALL)


def _parse_string(s: str) -> str:
    """modfile's ``parseString``: unquote a quoted token, reject stray quotes."""
    # modfile/rule.go: parseString
    if s.startswith('"'):
        u = _unquote(go_bytes(s))
        if u is None:
            raise _SyntaxError("invalid quoted string: invalid syntax")
        return _decode(u)
    if any(q in s for q in "\"'`"):
        raise _SyntaxError("unquoted string cannot contain quote")
    return s


@dataclass
class _LaxFile:
    """What ParseLax keeps while checking: whether ``module`` was seen, the go version."""

    module: bool = False
    go: str | None = None
    retract: list[tuple[str, str]] = field(default_factory=list)  # (low, high) intervals

    def add(self, verb: str, args: list[str]) -> None:
        """``(*File).add`` with strict=false, raising where Go records an error."""
        # modfile/rule.go: (*File).add. In lax mode only these verbs are looked at.
        if verb not in ("go", "module", "retract", "require", "ignore"):
            return
        if verb == "go":
            if self.go is not None:
                raise _SyntaxError("repeated go statement")
            if len(args) != 1:
                raise _SyntaxError("go directive expects exactly one argument")
            v = args[0]
            if not _GO_VERSION_RE.fullmatch(v):
                m = _LAX_GO_VERSION_RE.fullmatch(v)
                if m is None:
                    raise _SyntaxError(f"invalid go version '{v}': must match format 1.23.0")
                v = m.group(1)
            self.go = v
        elif verb == "module":
            if self.module:
                raise _SyntaxError("repeated module statement")
            self.module = True
            if len(args) != 1:
                raise _SyntaxError("usage: module module/path")
            _parse_string(args[0])
        elif verb == "require":
            if len(args) != 2:
                raise _SyntaxError("usage: require module/path v1.2.3")
            path = _parse_string(args[0])
            # modfile/rule.go: parseVersion with fix == nil
            cv = canonical_version(_parse_string(args[1]))
            if cv == "":
                raise _SyntaxError("must be of the form v1.2.3")
            # modfile/rule.go: modulePathMajor
            _, path_major, ok = split_path_version(path)
            if not ok:
                raise _SyntaxError("invalid module path")
            try:
                check_path_major(cv, path_major)
            except InvalidVersionError as e:
                raise _SyntaxError(str(e)) from e
        elif verb == "ignore":
            if len(args) != 1:
                raise _SyntaxError("ignore directive expects exactly one argument")
            _parse_string(args[0])
        elif verb == "retract":
            # In lax mode a bad interval is skipped, never an error.
            interval = _version_interval(args)
            if interval is not None:
                self.retract.append(interval)


def _version_interval(args: list[str]) -> tuple[str, str] | None:
    """modfile/rule.go parseVersionInterval with dontFixRetract: ``v`` or
    ``[low, high]``, versions taken as written (unquoted); None when malformed."""

    def version(tok: str) -> str | None:
        # parseVersion: parseString, then the fixer returns it unchanged.
        try:
            return _parse_string(tok)
        except _SyntaxError:
            return None

    if not args or args[0] == "(":
        return None
    if args[0] != "[":
        v = version(args[0])
        return None if v is None else (v, v)
    if len(args) < 5 or args[2] != "," or args[4] != "]":
        return None
    low, high = version(args[1]), version(args[3])
    if low is None or high is None:
        return None
    return low, high


def go_version(data: bytes) -> str | None:
    """The ``go`` directive of go.mod ``data`` as ``modfile.ParseLax`` reads it, or None.

    This is what x/mod/zip's ``parseGoVers`` works from (it then prefixes ``go`` and
    applies :func:`lang`): ``"1.21"``, ``"1.22rc2"``, ``"1.23.0"``, or a lax repair such
    as ``"1.21"`` for ``go 1.21-custom`` / ``go v1.21x``. None if there is no directive
    **or if ParseLax fails anywhere in the file** (a lexer or block syntax error, a
    repeated ``go`` or ``module``, a malformed ``require``/``ignore``/``module`` line, a
    ``go`` version not even matching the lax form): zip.go then uses no version, which
    compares older than every Go version.
    """
    # x/mod/zip/zip.go: parseGoVers
    f = _parse_lax(data)
    return None if f is None else f.go


def retractions(data: bytes) -> list[tuple[str, str]] | None:
    """The ``retract`` intervals ``(low, high)`` of go.mod ``data`` as ``modfile.ParseLax``
    reads them (malformed ones skipped), or None if ParseLax fails."""
    f = _parse_lax(data)
    return None if f is None else f.retract


def _parse_lax(data: bytes) -> _LaxFile | None:
    """modfile/rule.go ParseLax, parseToFile: None where it returns an error."""
    try:
        parser = _Parser(_lex(_decode(data)))
        parser.parse_file()
        f = _LaxFile()
        for st in parser.stmts:
            if st.lines is None:
                f.add(st.tokens[0], st.tokens[1:])
                continue
            if len(st.tokens) > 1:
                continue  # unknown block type: ignored in lax mode
            verb = st.tokens[0]
            if verb in ("module", "godebug", "require", "exclude", "replace", "retract", "tool", "ignore"):  # fmt: skip  # noqa: E501
                for line in st.lines:
                    f.add(verb, line)
    except _SyntaxError:
        return None
    return f


# ---------------------------------------------------------------------------
# Go toolchain versions (go/version over internal/gover)


@dataclass(frozen=True)
class _GoVersion:
    """internal/gover's ``Version``: decimal strings, empty when absent."""

    major: str = ""
    minor: str = ""
    patch: str = ""
    kind: str = ""
    pre: str = ""


def _cut_int(x: str) -> tuple[str, str] | None:
    """internal/gover's ``cutInt``: a leading decimal (no leading zero) and the rest."""
    # internal/gover: cutInt
    i = 0
    while i < len(x) and "0" <= x[i] <= "9":
        i += 1
    if i == 0 or (x[0] == "0" and i != 1):  # no digits or unnecessary leading zero
        return None
    return x[:i], x[i:]


def _gover_parse(x: str) -> _GoVersion:
    """internal/gover's ``Parse`` (the zero version when malformed)."""
    # internal/gover: Parse (the zero Version for a malformed x)
    bad = _GoVersion()
    r = _cut_int(x)
    if r is None:
        return bad
    major, x = r
    if x == "":
        return _GoVersion(major, "0", "0")  # "1" means "1.0.0"
    if x[0] != ".":
        return bad
    r = _cut_int(x[1:])
    if r is None:
        return bad
    minor, x = r
    if x == "":
        # Patch missing is "0" before 1.21; from 1.21 on, "1.21" differs from "1.21.0".
        return _GoVersion(major, minor, "0" if _cmp_int(minor, "21") < 0 else "")
    if x[0] == ".":
        r = _cut_int(x[1:])
        if r is None or r[1] != "":
            return bad
        return _GoVersion(major, minor, r[0])
    i = 0
    while i < len(x) and not "0" <= x[i] <= "9":
        if not "a" <= x[i] <= "z":
            return bad
        i += 1
    if i == 0:
        return bad
    kind, x = x[:i], x[i:]
    if x == "":
        return _GoVersion(major, minor, "", kind)
    r = _cut_int(x)
    if r is None or r[1] != "":
        return bad
    return _GoVersion(major, minor, "", kind, r[0])


def _cmp_int(x: str, y: str) -> int:
    """internal/gover's ``CmpInt``: compare two decimal strings."""
    # internal/gover: CmpInt (decimal strings without leading zeros)
    if x == y:
        return 0
    if len(x) != len(y):
        return -1 if len(x) < len(y) else 1
    return -1 if x < y else 1


def _strip_go(v: str) -> str:
    """go/version's ``stripGo``: ``go1.21-custom`` gives ``1.21``."""
    # go/version: stripGo ("go1.21-custom" -> "1.21"; "" if there is no "go" prefix)
    v = v.partition("-")[0]
    if len(v) < 2 or v[:2] != "go":
        return ""
    return v[2:]


def lang(v: str) -> str:
    """Go's ``version.Lang``: the language version of toolchain version ``v``, or ``""``.

    ``lang("go1.21rc2") == lang("go1.21.2") == "go1.21"``, ``lang("go1") == "go1"``,
    ``lang("go1.0") == "go1"``, ``lang("go2") == "go2.0"``; ``lang("1.21") == ""``.
    """
    # go/version: Lang; internal/gover: Lang
    g = _gover_parse(_strip_go(v))
    short = g.minor == "" or (g.major == "1" and g.minor == "0")
    out = g.major if short else g.major + "." + g.minor
    return "go" + out if out else ""


def compare(a: str, b: str) -> int:
    """Go's ``version.Compare`` of two ``go``-prefixed toolchain versions: -1, 0 or +1.

    Invalid versions (including ``""``) compare equal to each other and below all valid
    ones; ``go1.21 < go1.21rc1 < go1.21.0``.
    """
    # go/version: Compare; internal/gover: Compare
    x, y = _gover_parse(_strip_go(a)), _gover_parse(_strip_go(b))
    for p, q in ((x.major, y.major), (x.minor, y.minor), (x.patch, y.patch)):
        c = _cmp_int(p, q)
        if c:
            return c
    if x.kind != y.kind:  # "" < alpha < beta < rc
        return -1 if x.kind < y.kind else 1
    return _cmp_int(x.pre, y.pre)


def is_valid(v: str) -> bool:
    """Go's ``version.IsValid``: whether ``v`` is a valid ``go``-prefixed version."""
    # go/version: IsValid
    return _gover_parse(_strip_go(v)) != _GoVersion()


# ---------------------------------------------------------------------------
# Quoting and the synthesized go.mod


def must_quote(s: str) -> bool:
    """Go's ``modfile.MustQuote``: whether ``s`` must be quoted to be one go.mod token."""
    # modfile/rule.go: MustQuote
    b = go_bytes(s)
    for ch in _decode(b):
        if ch in " \"'`":
            return True
        if ch in "()[]{},":
            if len(b) > 1:
                return True
        elif not _is_surrogate(ch) and not is_print(ch):  # invalid UTF-8 reads as U+FFFD
            return True
    return s == "" or "//" in s or "/*" in s


def auto_quote(s: str) -> str:
    """Go's ``modfile.AutoQuote``: ``s``, or its ``strconv.Quote`` if :func:`must_quote`."""
    # modfile/rule.go: AutoQuote
    return go_quote(s) if must_quote(s) else s


def legacy_go_mod(path: str) -> bytes:
    """The go.mod cmd/go synthesizes for a module without one: ``module <path>\\n``.

    The path is quoted (Go ``strconv.Quote``) only when ``modfile.MustQuote`` says so; for
    any valid module path it never does. The client recognizes "no go.mod" by comparing
    the ``.mod`` body with exactly these bytes.
    """
    # cmd/go/internal/modfetch/coderepo.go: LegacyGoMod
    return b"module " + go_bytes(auto_quote(path)) + b"\n"
