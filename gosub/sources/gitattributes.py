"""``.gitattributes`` as ``git archive`` applies them, for the files GitHub's archive alters.

Go builds a module zip with ``git -c core.autocrlf=input -c core.eol=lf archive`` after
appending ``* -export-subst -export-ignore`` to ``$GIT_DIR/info/attributes``
(cmd/go/internal/modfetch/codehost/git.go): export-ignore and export-subst are cancelled and
every other attribute from the in-tree ``.gitattributes`` files still applies. GitHub's
archives are ``git archive`` too but honour export-ignore and export-subst, so gosub takes
the raw blobs of exactly those files and converts them here as Go's ``git archive`` would.

This module is a port of the relevant parts of git (file names below are git's sources):

* ``attr.c``: which ``.gitattributes`` files apply and in what order, line parsing,
  attribute states, macros (built-in ``binary`` and ``[attr]`` lines in the root file);
* ``dir.c`` (``parse_path_pattern``, ``match_basename``, ``match_pathname``) and
  ``wildmatch.c``: pattern matching;
* ``quote.c`` (``unquote_c_style``): quoted patterns;
* ``archive.c``: which files and directories export-ignore drops, export-subst;
* ``convert.c`` (``convert_attrs``, ``convert_to_working_tree_ca_internal``): ident, then
  end-of-line conversion, then working-tree-encoding, then the smudge filter;
* ``utf8.c`` (``reencode_string_len``, ``same_encoding``): working-tree-encoding, which git
  does with iconv; here only encodings whose glibc iconv output Python reproduces exactly.

It follows current git (2.55); the line-length and file-size limits exist since git 2.39.1,
the reserved ``builtin_*`` attribute names since 2.44. It models git run with no system or
global configuration (in particular no
``filter.<name>.*`` drivers), a repository whose ``core.ignorecase`` is false, glibc iconv on
a little-endian machine, and blobs below ``core.bigFileThreshold`` (512 MiB, more than a Go
module zip may hold; larger blobs are streamed without conversion). It knows nothing of Go or
HTTP.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Mapping
from dataclasses import dataclass

State = str | bool
"""An attribute's state for a path: ``True`` = set, ``False`` = unset, ``str`` = a value."""

_Value = str | bool | None  # as State, plus None = explicitly unspecified ("!attr")
_States = tuple[tuple[str, _Value], ...]

__all__ = [
    "Attributes",
    "State",
    "UnsupportedAttributeError",
    "convert_for_go_archive",
]


class UnsupportedAttributeError(Exception):
    """gosub cannot reproduce what ``git archive`` does for this file (for example a
    working-tree-encoding outside the supported set), or ``git archive`` itself fails."""


# --------------------------------------------------------------------------------------
# Patterns: dir.c parse_path_pattern / match_basename / match_pathname, wildmatch.c
# --------------------------------------------------------------------------------------

_BLANK = b" \t\r\n"  # attr.c: blank[]
_GLOB_SPECIAL = frozenset(b"*?[\\")  # ctype.c: GIT_GLOB_SPECIAL

_PATTERN_NODIR = 1  # dir.h PATTERN_FLAG_NODIR
_PATTERN_ENDSWITH = 4  # dir.h PATTERN_FLAG_ENDSWITH
_PATTERN_MUSTBEDIR = 8  # dir.h PATTERN_FLAG_MUSTBEDIR
_PATTERN_NEGATIVE = 16  # dir.h PATTERN_FLAG_NEGATIVE

_WM_MATCH = 0  # wildmatch.h / wildmatch.c return values
_WM_NOMATCH = 1
_WM_ABORT_ALL = -1
_WM_ABORT_TO_STARSTAR = -2

_SLASH = ord("/")
_STAR = ord("*")
_BACKSLASH = ord("\\")


def _range(lo: int, hi: int) -> frozenset[int]:
    return frozenset(range(lo, hi + 1))


# wildmatch.c character classes over git's locale-independent sane-ctype.h / ctype.c table
# (ASCII only; ISASCII() guards the rest).
_UPPER = _range(0x41, 0x5A)
_LOWER = _range(0x61, 0x7A)
_DIGIT = _range(0x30, 0x39)
_CLASSES: dict[bytes, frozenset[int]] = {
    b"alnum": _UPPER | _LOWER | _DIGIT,
    b"alpha": _UPPER | _LOWER,
    b"blank": frozenset(b" \t"),
    b"cntrl": _range(0, 31) | {127},
    b"digit": _DIGIT,
    b"graph": _range(0x21, 0x7E),
    b"lower": _LOWER,
    b"print": _range(0x20, 0x7E),
    b"punct": _range(0x21, 0x2F) | _range(0x3A, 0x40) | _range(0x5B, 0x60) | _range(0x7B, 0x7E),
    b"space": frozenset(b" \t\n\r"),  # git's isspace(): no \v or \f
    b"upper": _UPPER,
    b"xdigit": _DIGIT | _range(0x41, 0x46) | _range(0x61, 0x66),
}


def _dowild(p: bytes, pi: int, text: bytes, ti: int, pathname: bool) -> int:
    """wildmatch.c dowild(): match ``p[pi:]`` against ``text[ti:]``.

    C strings end in NUL; here an index past the end reads as 0 (neither side contains
    NUL: patterns are cut at their first NUL, paths never contain one)."""
    plen, tlen = len(p), len(text)
    while pi < plen:
        p_ch = p[pi]
        t_ch = text[ti] if ti < tlen else 0
        if t_ch == 0 and p_ch != _STAR:
            return _WM_ABORT_ALL
        if p_ch == _BACKSLASH:
            # Literal match with the following character.
            pi += 1
            p_ch = p[pi] if pi < plen else 0
            if t_ch != p_ch:
                return _WM_NOMATCH
        elif p_ch == ord("?"):
            if pathname and t_ch == _SLASH:
                return _WM_NOMATCH
        elif p_ch == _STAR:
            pi += 1
            if pi < plen and p[pi] == _STAR:
                prev_p = pi
                pi += 1
                while pi < plen and p[pi] == _STAR:
                    pi += 1
                if not pathname:
                    match_slash = True
                elif (prev_p < 2 or p[prev_p - 2] == _SLASH) and (
                    pi == plen
                    or p[pi] == _SLASH
                    or (p[pi] == _BACKSLASH and pi + 1 < plen and p[pi + 1] == _SLASH)
                ):
                    # "**/" may match nothing at all: foo/**/bar matches foo/bar.
                    if (
                        pi < plen
                        and p[pi] == _SLASH
                        and (_dowild(p, pi + 1, text, ti, pathname) == _WM_MATCH)
                    ):
                        return _WM_MATCH
                    match_slash = True
                else:
                    match_slash = False
            else:
                match_slash = not pathname
            if pi == plen:
                # A trailing "**" matches everything, a trailing "*" only up to a slash.
                if not match_slash and _SLASH in text[ti:]:
                    return _WM_ABORT_TO_STARSTAR
                return _WM_MATCH
            if not match_slash and p[pi] == _SLASH:
                # One asterisk followed by a slash matches up to the next directory.
                slash = text.find(b"/", ti)
                if slash < 0:
                    return _WM_ABORT_ALL
                ti = slash
                pi += 1
                ti += 1
                continue
            while True:
                if t_ch == 0:
                    break
                if p[pi] not in _GLOB_SPECIAL:
                    # Advance quickly to the next occurrence of the literal after '*'.
                    p_ch = p[pi]
                    while True:
                        t_ch = text[ti] if ti < tlen else 0
                        if t_ch == 0 or (not match_slash and t_ch == _SLASH):
                            break
                        if t_ch == p_ch:
                            break
                        ti += 1
                    if t_ch != p_ch:
                        return _WM_ABORT_ALL if match_slash else _WM_ABORT_TO_STARSTAR
                matched = _dowild(p, pi, text, ti, pathname)
                if matched != _WM_NOMATCH:
                    if not match_slash or matched != _WM_ABORT_TO_STARSTAR:
                        return matched
                elif not match_slash and t_ch == _SLASH:
                    return _WM_ABORT_TO_STARSTAR
                ti += 1
                t_ch = text[ti] if ti < tlen else 0
            return _WM_ABORT_ALL
        elif p_ch == ord("["):
            pi += 1
            p_ch = p[pi] if pi < plen else 0
            if p_ch == ord("^"):
                p_ch = ord("!")
            negated = p_ch == ord("!")
            if negated:
                pi += 1
                p_ch = p[pi] if pi < plen else 0
            prev_ch = 0
            matched_class = False
            while True:
                if not p_ch:
                    return _WM_ABORT_ALL
                if p_ch == _BACKSLASH:
                    pi += 1
                    p_ch = p[pi] if pi < plen else 0
                    if not p_ch:
                        return _WM_ABORT_ALL
                    if t_ch == p_ch:
                        matched_class = True
                elif p_ch == ord("-") and prev_ch and pi + 1 < plen and p[pi + 1] != ord("]"):
                    pi += 1
                    p_ch = p[pi]
                    if p_ch == _BACKSLASH:
                        pi += 1
                        p_ch = p[pi] if pi < plen else 0
                        if not p_ch:
                            return _WM_ABORT_ALL
                    if prev_ch <= t_ch <= p_ch:
                        matched_class = True
                    p_ch = 0  # makes prev_ch 0
                elif p_ch == ord("[") and pi + 1 < plen and p[pi + 1] == ord(":"):
                    pi += 2
                    s = pi
                    while pi < plen and p[pi] != ord("]"):
                        pi += 1
                    if pi >= plen:
                        return _WM_ABORT_ALL
                    p_ch = p[pi]
                    if pi - s - 1 < 0 or p[pi - 1] != ord(":"):
                        # No ":]": treat the '[' as a literal.
                        pi = s - 2
                        p_ch = ord("[")
                        if t_ch == p_ch:
                            matched_class = True
                    else:
                        members = _CLASSES.get(p[s : pi - 1])
                        if members is None:
                            return _WM_ABORT_ALL  # malformed [:class:]
                        if t_ch in members:
                            matched_class = True
                        p_ch = 0
                elif t_ch == p_ch:
                    matched_class = True
                prev_ch = p_ch
                pi += 1
                p_ch = p[pi] if pi < plen else 0
                if p_ch == ord("]"):
                    break
            if matched_class == negated or (pathname and t_ch == _SLASH):
                return _WM_NOMATCH
        else:
            if t_ch != p_ch:
                return _WM_NOMATCH
        pi += 1
        ti += 1
    return _WM_NOMATCH if ti < tlen else _WM_MATCH


def _wildmatch(pattern: bytes, text: bytes, pathname: bool) -> bool:
    """wildmatch.c wildmatch() (flags: WM_PATHNAME or 0; no WM_CASEFOLD)."""
    return _dowild(pattern, 0, text, 0, pathname) == _WM_MATCH


def _simple_length(s: bytes) -> int:
    """dir.c simple_length(): the length of the part before the first glob character."""
    for i, c in enumerate(s):
        if c in _GLOB_SPECIAL:
            return i
    return len(s)


@dataclass(frozen=True)
class _Pattern:
    """dir.h struct pattern, as parse_path_pattern() fills it."""

    text: bytes  # without the trailing '/' of a directory-only pattern
    nowildcardlen: int
    flags: int


def _parse_path_pattern(raw: bytes) -> _Pattern:
    """dir.c parse_path_pattern()."""
    raw = raw.split(b"\0", 1)[0]  # the pattern is a C string
    flags = 0
    if raw.startswith(b"!"):
        flags |= _PATTERN_NEGATIVE
        raw = raw[1:]
    length = len(raw)
    if length and raw[-1] == _SLASH:
        length -= 1
        flags |= _PATTERN_MUSTBEDIR
    if b"/" not in raw[:length]:
        flags |= _PATTERN_NODIR
    nowildcardlen = min(_simple_length(raw), length)
    if raw.startswith(b"*") and _simple_length(raw[1:]) == len(raw) - 1:
        flags |= _PATTERN_ENDSWITH
    return _Pattern(raw[:length], nowildcardlen, flags)


def _match_basename(basename: bytes, pat: _Pattern) -> bool:
    """dir.c match_basename()."""
    pattern = pat.text
    if pat.nowildcardlen == len(pattern):
        return pattern == basename
    if pat.flags & _PATTERN_ENDSWITH:
        # "*literal" matching against "fooliteral"
        return len(pattern) - 1 <= len(basename) and basename.endswith(pattern[1:])
    return _wildmatch(pattern, basename, pathname=False)


def _match_pathname(pathname: bytes, base: bytes, pat: _Pattern) -> bool:
    """dir.c match_pathname(): the pattern is relative to ``base`` (its .gitattributes
    directory) and matched with WM_PATHNAME."""
    pattern = pat.text
    prefix = pat.nowildcardlen
    if pattern.startswith(b"/"):
        pattern = pattern[1:]
        prefix -= 1
    baselen = len(base)
    if (
        len(pathname) < baselen + 1
        or (baselen and pathname[baselen] != _SLASH)
        or pathname[:baselen] != base
    ):
        return False
    name = pathname[baselen + 1 :] if baselen else pathname
    if prefix:
        # The part before the first wildcard must match literally.
        if prefix > len(name):
            return False
        if pattern[:prefix] != name[:prefix]:
            return False
        if len(pattern) == prefix and len(name) == prefix:
            return True
        # Keep one character of the prefix so that wildmatch can tell where a
        # directory component starts.
        prefix -= 1
        pattern = pattern[prefix:]
        name = name[prefix:]
    return _wildmatch(pattern, name, pathname=True)


# --------------------------------------------------------------------------------------
# .gitattributes files: attr.c
# --------------------------------------------------------------------------------------

_MACRO_PREFIX = b"[attr]"  # environment.h ATTRIBUTE_MACRO_PREFIX
_MAX_LINE_LENGTH = 2048  # attr.h ATTR_MAX_LINE_LENGTH
_MAX_FILE_SIZE = 100 * 1024 * 1024  # attr.h ATTR_MAX_FILE_SIZE
_ATTR_NAME_CHARS = frozenset(b"-._0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _strspn_blank(s: bytes, i: int) -> int:
    while i < len(s) and s[i] in _BLANK:
        i += 1
    return i


def _strcspn_blank(s: bytes, i: int) -> int:
    while i < len(s) and s[i] not in _BLANK:
        i += 1
    return i


def _attr_name_ok(name: bytes) -> bool:
    """attr.c attr_name_valid() and attr_name_reserved() (``builtin_*`` names are reserved
    since git 2.44; older git accepts them)."""
    return (
        bool(name)
        and name[0] != ord("-")
        and all(c in _ATTR_NAME_CHARS for c in name)
        and not name.startswith(b"builtin_")
    )


def _unquote_c_style(s: bytes) -> tuple[bytes, int] | None:
    """quote.c unquote_c_style(): ``s`` starts with '"'; return the unquoted bytes and the
    index just after the closing quote, or None if it is not a valid quoted string."""
    out = bytearray()
    i = 1
    n = len(s)
    escapes = {
        ord("a"): 7,
        ord("b"): 8,
        ord("f"): 12,
        ord("n"): 10,
        ord("r"): 13,
        ord("t"): 9,
        ord("v"): 11,
        ord("\\"): ord("\\"),
        ord('"'): ord('"'),
    }
    while True:
        j = i
        while j < n and s[j] not in b'"\\':
            j += 1
        out += s[i:j]
        if j >= n:
            return None
        if s[j] == ord('"'):
            return bytes(out), j + 1
        # a backslash
        if j + 1 >= n:
            return None
        ch = s[j + 1]
        i = j + 2
        if ch in escapes:
            out.append(escapes[ch])
        elif ord("0") <= ch <= ord("3"):
            # Three octal digits; the first is at most 3.
            digits = s[j + 1 : j + 4]
            if len(digits) < 3 or not all(ord("0") <= d <= ord("7") for d in digits[1:]):
                return None
            out.append(int(digits, 8))
            i = j + 4
        else:
            return None


def _parse_states(s: bytes) -> _States | None:
    """attr.c parse_attr(), both passes: the states on a line, or None if one of them has an
    invalid name (then git drops the whole line)."""
    states: list[tuple[str, _Value]] = []
    cp = _strspn_blank(s, 0)
    while cp < len(s):
        ep = _strcspn_blank(s, cp)
        token = s[cp:ep]
        eq = token.find(b"=")
        name = token[:eq] if eq >= 0 else token
        value: _Value
        if token[:1] in (b"-", b"!"):
            value = False if token[:1] == b"-" else None
            name = name[1:]
        elif eq < 0:
            value = True
        else:
            value = token[eq + 1 :].decode("utf-8", "surrogateescape")
        if not _attr_name_ok(name):
            return None
        states.append((name.decode("ascii"), value))
        cp = _strspn_blank(s, ep)
    return tuple(states)


@dataclass(frozen=True)
class _Rule:
    """attr.c struct match_attr: a pattern line, or a macro definition."""

    pattern: _Pattern | None  # None for a macro
    macro: str | None  # the macro's name
    states: _States


def _parse_line(line: bytes, macro_ok: bool) -> _Rule | None:
    """attr.c parse_attr_line()."""
    cp = _strspn_blank(line, 0)
    if cp >= len(line) or line[cp] == ord("#"):
        return None
    if len(line) >= _MAX_LINE_LENGTH:
        return None  # "ignoring overly long attributes line"
    unquoted = _unquote_c_style(line[cp:]) if line[cp] == ord('"') else None
    if unquoted is not None:
        name, states_at = unquoted[0], cp + unquoted[1]
    else:
        end = _strcspn_blank(line, cp)
        name, states_at = line[cp:end], end
    macro: str | None = None
    if len(name) > len(_MACRO_PREFIX) and name.startswith(_MACRO_PREFIX):
        if not macro_ok:
            return None  # "[attr]x not allowed": macros only in the top-level file
        rest = name[len(_MACRO_PREFIX) :].split(b"\0", 1)[0]  # a C string
        start = _strspn_blank(rest, 0)
        macro_name = rest[start : _strcspn_blank(rest, start)]
        if not _attr_name_ok(macro_name):
            return None
        macro = macro_name.decode("ascii")
    states = _parse_states(line[states_at:])
    if states is None:
        return None
    if macro is not None:
        return _Rule(None, macro, states)
    pattern = _parse_path_pattern(name)
    if pattern.flags & _PATTERN_NEGATIVE:
        return None  # "Negative patterns are ignored in git attributes"
    return _Rule(pattern, None, states)


def _parse_file(content: bytes, macro_ok: bool) -> list[_Rule]:
    """attr.c read_attr_from_buf(): the rules of one in-tree .gitattributes blob.

    git reads it as a C string (so it stops at the first NUL byte), splits it at LF only
    and, unlike a .gitattributes read from disk, does not skip a UTF-8 BOM."""
    if len(content) >= _MAX_FILE_SIZE:
        return []  # "ignoring overly large gitattributes blob"
    content = content.split(b"\0", 1)[0]
    rules = []
    for line in content.split(b"\n"):
        rule = _parse_line(line, macro_ok)
        if rule is not None:
            rules.append(rule)
    return rules


# attr.c builtin_attr[]
_BUILTIN = _parse_file(b"[attr]binary -diff -merge -text", macro_ok=True)

_GITATTRIBUTES = ".gitattributes"

# What cmd/go appends to $GIT_DIR/info/attributes before archiving (codehost/git.go).
_GO_INFO_STATES: _States = (("export-subst", False), ("export-ignore", False))


class Attributes:
    """The attributes that apply in one tree, built from its ``.gitattributes`` files.

    Only in-tree files count (no system or global attributes file), plus, with
    ``lookup(path, go=True)``, the line Go adds to ``$GIT_DIR/info/attributes``."""

    def __init__(self, frames: Mapping[bytes, list[_Rule]]) -> None:
        """Use :meth:`from_files`. ``frames`` maps a directory ("" for the root) to the
        rules of its .gitattributes file."""
        self._frames = dict(frames)
        # attr.c determine_macros(): the highest definition on the stack wins. Only the
        # root file may define macros, above the built-in one; later lines win.
        self._macros: dict[str, _States] = {}
        for rule in [*_BUILTIN, *self._frames.get(b"", [])]:
            if rule.macro is not None:
                self._macros[rule.macro] = rule.states
        self._dir_cache: dict[str, dict[str, State]] = {}

    @classmethod
    def from_files(cls, files: Mapping[str, bytes]) -> Attributes:
        """Build from the tree's ``.gitattributes`` blobs.

        ``files`` maps each one's path in the tree (``.gitattributes`` at the root,
        ``a/b/.gitattributes`` deeper) to its blob content. git reads the blob whatever
        its mode, so for a symbolic link that is the link's target text."""
        frames: dict[bytes, list[_Rule]] = {}
        for path, content in files.items():
            if path == _GITATTRIBUTES:
                directory = ""
            elif path.endswith("/" + _GITATTRIBUTES):
                directory = path[: -len(_GITATTRIBUTES) - 1]
            else:
                raise ValueError(f"not a .gitattributes path: {path!r}")
            key = directory.encode("utf-8", "surrogateescape")
            # attr.c prepare_attr_stack(): only the root file may define macros.
            frames[key] = _parse_file(bytes(content), macro_ok=not key)
        return cls(frames)

    def lookup(self, path: str, *, go: bool = False) -> dict[str, State]:
        """The attributes of ``path`` (relative to the repository root; a trailing ``/``
        marks a directory), as ``git check-attr --all`` reports them: ``True`` = set,
        ``False`` = unset, a ``str`` = that value; unspecified attributes are absent.

        By default from the in-tree files alone, as GitHub's archive sees them. With
        ``go=True`` as Go's archive sees them: its ``info/attributes`` line
        ``* -export-subst -export-ignore`` overrides everything else, so both are unset
        (and a macro of either name does not expand)."""
        return self._lookup(path.encode("utf-8", "surrogateescape"), go)

    def _lookup(self, path: bytes, go: bool) -> dict[str, State]:
        # attr.c collect_some_attrs(): the directory is up to the last slash that is not
        # the final character.
        last_slash = path.rfind(b"/", 0, len(path) - 1) if path else -1
        basename_offset = last_slash + 1
        dirlen = max(last_slash, 0)
        isdir = path.endswith(b"/")
        # attr.c prepare_attr_stack(): the .gitattributes of the root and of every
        # directory down to the path's own; fill() reads the deepest first.
        dirs = [b""]
        if dirlen:
            parts = path[:dirlen].split(b"/")
            dirs += [b"/".join(parts[: i + 1]) for i in range(len(parts))]
        values: dict[str, _Value] = {}
        if go:
            # The info/attributes frame, on top of the stack (attr.c bootstrap_attr_stack).
            self._fill_one(values, _GO_INFO_STATES)
        for base in reversed(dirs):
            for rule in reversed(self._frames.get(base, ())):
                if rule.pattern is None:
                    continue
                if self._path_matches(path, basename_offset, isdir, rule.pattern, base):
                    self._fill_one(values, rule.states)
        return {name: value for name, value in values.items() if value is not None}

    @staticmethod
    def _path_matches(
        path: bytes, basename_offset: int, isdir: bool, pat: _Pattern, base: bytes
    ) -> bool:
        """attr.c path_matches()."""
        if pat.flags & _PATTERN_MUSTBEDIR and not isdir:
            return False
        end = len(path) - 1 if isdir else len(path)
        if pat.flags & _PATTERN_NODIR:
            return _match_basename(path[basename_offset:end], pat)
        return _match_pathname(path[:end], base, pat)

    def _fill_one(self, values: dict[str, _Value], states: _States) -> None:
        """attr.c fill_one(): the last state on a line wins, an attribute already decided
        by a higher-priority line is kept, and a macro set here expands in place (only
        when set, and only into attributes not yet decided)."""
        todo = list(states)
        while todo:
            name, value = todo.pop()
            if name in values:
                continue
            values[name] = value
            if value is True and name in self._macros:
                todo.extend(self._macros[name])

    def altered_by_github_archive(self, path: str) -> bool:
        """Whether GitHub's archive (``git archive`` honouring export-ignore and
        export-subst) can differ from Go's for the file at ``path``: export-subst set on
        it, or export-ignore set on it or on one of its directories (archive.c
        write_archive_entry and queue_or_write_archive_entry)."""
        attrs = self.lookup(path)
        if attrs.get("export-subst") is True or attrs.get("export-ignore") is True:
            return True
        parts = path.split("/")
        for i in range(1, len(parts)):
            directory = "/".join(parts[:i]) + "/"
            found = self._dir_cache.get(directory)
            if found is None:
                found = self._dir_cache[directory] = self.lookup(directory)
            if found.get("export-ignore") is True:
                return True
        return False


# --------------------------------------------------------------------------------------
# Conversion: convert.c, utf8.c
# --------------------------------------------------------------------------------------


def _count_ident(data: bytes) -> int:
    """convert.c count_ident(): how many ``$Id$`` / ``$Id: ... $`` there are."""
    cnt = 0
    i, n = 0, len(data)
    while i < n:
        ch = data[i]
        i += 1
        if ch != ord("$"):
            continue
        if n - i < 3:
            break
        if data[i : i + 2] != b"Id":
            continue
        ch = data[i + 2]
        i += 3
        if ch == ord("$"):
            cnt += 1
        if ch != ord(":"):
            continue
        # "$Id: ..."; scan up to the closing dollar sign and discard.
        while i < n:
            ch = data[i]
            i += 1
            if ch == ord("$"):
                cnt += 1
                break
            if ch == ord("\n"):
                break
    return cnt


def _ident_to_worktree(data: bytes, blob_sha: str) -> bytes:
    """convert.c ident_to_worktree(): ``$Id$`` and git-style ``$Id: ... $`` become
    ``$Id: <blob id> $``; an Id with spaces inside is another system's and is kept."""
    if not _count_ident(data):
        return data
    out = bytearray()
    src = 0
    n = len(data)
    oid = blob_sha.encode("ascii")
    while True:
        dollar = data.find(b"$", src)
        if dollar < 0:
            break
        out += data[src : dollar + 1]
        src = dollar + 1
        if n - src < 3 or data[src : src + 2] != b"Id":
            continue
        if data[src + 2] == ord("$"):
            src += 3
        elif data[src + 2] == ord(":"):
            dollar = data.find(b"$", src + 3)
            if dollar < 0:
                break  # incomplete keyword, no more '$'
            if b"\n" in data[src + 3 : dollar]:
                continue  # line break before the next dollar
            spc = data.find(b" ", src + 4, dollar) if dollar - src - 4 > 0 else -1
            if spc >= 0 and spc < dollar - 1:
                continue  # spaces in unexpected places: a foreign ident
            src = dollar + 1
        else:
            continue
        out += b"Id: " + oid + b" $"
    out += data[src:]
    return bytes(out)


@dataclass
class _TextStat:
    """convert.c struct text_stat."""

    nul: int = 0
    lonecr: int = 0
    lonelf: int = 0
    crlf: int = 0
    printable: int = 0
    nonprintable: int = 0


def _gather_stats(data: bytes) -> _TextStat:
    """convert.c gather_stats()."""
    st = _TextStat()
    st.crlf = data.count(b"\r\n")
    st.lonecr = data.count(b"\r") - st.crlf
    st.lonelf = data.count(b"\n") - st.crlf
    st.nul = data.count(b"\0")
    # DEL and controls other than BS, HT, ESC, FF (CR and LF counted above) are
    # non-printable; everything else, bytes >= 0x80 included, is printable.
    nonprintable = data.count(b"\x7f") + sum(
        data.count(bytes([c])) for c in range(32) if c not in (8, 9, 10, 12, 13, 27)
    )
    st.nonprintable = nonprintable
    st.printable = len(data) - nonprintable - data.count(b"\r") - data.count(b"\n")
    # A final ^Z (DOS end of file) does not count as non-printable.
    if data.endswith(b"\x1a"):
        st.nonprintable -= 1
    return st


def _convert_is_binary(st: _TextStat) -> bool:
    """convert.c convert_is_binary(): lone CR, NUL, or too many non-printables."""
    return bool(st.lonecr or st.nul or (st.printable >> 7) < st.nonprintable)


# convert.h enum convert_crlf_action
_CRLF_UNDEFINED = "undefined"
_CRLF_BINARY = "binary"
_CRLF_TEXT = "text"
_CRLF_TEXT_INPUT = "text_input"
_CRLF_TEXT_CRLF = "text_crlf"
_CRLF_AUTO = "auto"
_CRLF_AUTO_INPUT = "auto_input"
_CRLF_AUTO_CRLF = "auto_crlf"


def _check_crlf(value: State | None) -> str:
    """convert.c git_path_check_crlf() for the ``text`` or legacy ``crlf`` attribute."""
    if value is True:
        return _CRLF_TEXT
    if value is False:
        return _CRLF_BINARY
    if value == "input":
        return _CRLF_TEXT_INPUT
    if value == "auto":
        return _CRLF_AUTO
    return _CRLF_UNDEFINED


def _go_crlf_action(attrs: Mapping[str, State]) -> str:
    """convert.c convert_attrs() under ``core.autocrlf=input`` and ``core.eol=lf``."""
    action = _check_crlf(attrs.get("text"))
    if action == _CRLF_UNDEFINED:
        action = _check_crlf(attrs.get("crlf"))
    if action != _CRLF_BINARY:
        eol = attrs.get("eol")  # git_path_check_eol(): only "lf" and "crlf" mean anything
        if action == _CRLF_AUTO and eol == "lf":
            action = _CRLF_AUTO_INPUT
        elif action == _CRLF_AUTO and eol == "crlf":
            action = _CRLF_AUTO_CRLF
        elif eol == "lf":
            action = _CRLF_TEXT_INPUT
        elif eol == "crlf":
            action = _CRLF_TEXT_CRLF
    # text_eol_is_crlf() is false with core.autocrlf=input, and an undecided file gets
    # core.autocrlf's action.
    if action == _CRLF_TEXT:
        action = _CRLF_TEXT_INPUT
    if action == _CRLF_UNDEFINED:
        action = _CRLF_AUTO_INPUT
    return action


def _crlf_to_worktree(data: bytes, action: str) -> bytes:
    """convert.c crlf_to_worktree() and will_convert_lf_to_crlf(): only text eol=crlf and
    text=auto eol=crlf write CRLF (output_eol() is LF for every other action here, since
    text=auto alone follows core.eol); text=auto leaves a file with any CR, or that looks
    binary, alone."""
    if not data or action not in (_CRLF_TEXT_CRLF, _CRLF_AUTO_CRLF):
        return data
    st = _gather_stats(data)
    if not st.lonelf:
        return data
    if action == _CRLF_AUTO_CRLF and (st.lonecr or st.crlf or _convert_is_binary(st)):
        return data
    # Every LF not already preceded by CR becomes CRLF; CRLF and lone CR stay.
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _ascii_lower(s: str) -> bytes:
    """C strcasecmp() folds ASCII letters only."""
    return s.encode("utf-8", "surrogateescape").lower()


def _same_utf_encoding(a: str, b: str) -> bool:
    """utf8.c same_utf_encoding(): "utf" (any case), an optional "-", then the same rest."""

    def rest(s: str) -> bytes | None:
        low = _ascii_lower(s)
        if not low.startswith(b"utf"):
            return None
        low = low[3:]
        return low[1:] if low.startswith(b"-") else low

    ra, rb = rest(a), rest(b)
    return ra is not None and ra == rb


def _same_encoding(a: str, b: str) -> bool:
    """utf8.c same_encoding()."""
    return _same_utf_encoding(a, b) or _ascii_lower(a) == _ascii_lower(b)


_Encoder = Callable[[str], bytes]


def _tagless(codec: str) -> _Encoder:
    # glibc's converters to these charsets silently drop the Unicode tag characters
    # U+E0000..U+E007F (iconv/loop.c STANDARD_TO_LOOP_ERR_HANDLER).
    table = {c: None for c in range(0xE0000, 0xE0080)}

    def encode(text: str) -> bytes:
        return text.translate(table).encode(codec)

    return encode


def _bom(bom: bytes, codec: str) -> _Encoder:
    def encode(text: str) -> bytes:
        return bom + text.encode(codec)

    return encode


def _ucs2(codec: str) -> _Encoder:
    # UCS-2 has no surrogate pairs; glibc drops the tag characters here too.
    table = {c: None for c in range(0xE0000, 0xE0080)}

    def encode(text: str) -> bytes:
        text = text.translate(table)
        for i, c in enumerate(text):
            if ord(c) > 0xFFFF:
                raise UnicodeEncodeError(codec, text, i, i + 1, "not in UCS-2")
        return text.encode(codec)

    return encode


def _encoders() -> dict[str, _Encoder]:
    """working-tree-encoding names (upper-cased) → encoder, for glibc iconv names whose
    conversion from UTF-8 Python reproduces byte for byte (checked code point by code
    point against glibc 2.36; encodings where they differ, such as SHIFT-JIS, CP932,
    EUC-JP, GBK, GB18030, BIG5, EUC-KR, CP1255, CP1258 and MACINTOSH, are left out)."""
    table: dict[str, _Encoder] = {}

    def add(encoder: _Encoder, *names: str) -> None:
        for name in names:
            table[name.upper()] = encoder

    # UTF-16 and UTF-32 without an explicit byte order: glibc writes a BOM and the
    # machine's byte order (little-endian here); UCS-2 writes the machine's order, no BOM.
    add(_bom(codecs.BOM_UTF16_LE, "utf-16-le"), "UTF-16", "UTF16")
    add(_bom(b"", "utf-16-le"), "UTF-16LE", "UTF16LE")
    add(_bom(b"", "utf-16-be"), "UTF-16BE", "UTF16BE")
    add(_bom(codecs.BOM_UTF32_LE, "utf-32-le"), "UTF-32", "UTF32")
    add(_bom(b"", "utf-32-le"), "UTF-32LE", "UTF32LE")
    add(_bom(b"", "utf-32-be"), "UTF-32BE", "UTF32BE")
    add(_ucs2("utf-16-le"), "UCS-2", "UCS2", "UCS-2LE", "UNICODELITTLE")
    add(_ucs2("utf-16-be"), "UCS-2BE", "UNICODEBIG")
    add(_tagless("ascii"), "ASCII", "US-ASCII", "ANSI_X3.4-1968", "ISO646-US", "US")
    add(_tagless("latin-1"), "ISO-8859-1", "ISO8859-1", "ISO_8859-1", "ISO88591", "LATIN1")
    add(_tagless("latin-1"), "L1", "IBM819", "CP819")
    latin = {2: 2, 3: 3, 4: 4, 9: 5, 10: 6, 13: 7, 14: 8, 15: 9, 16: 10}
    for n in (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16):
        encoder = _tagless(f"iso8859_{n}")
        add(encoder, f"ISO-8859-{n}", f"ISO8859-{n}", f"ISO8859{n}")
        if n not in (11, 13):  # glibc has no ISO_8859-11 or ISO_8859-13 alias
            add(encoder, f"ISO_8859-{n}")
        if n in latin:
            add(encoder, f"LATIN{latin[n]}")
    for n in (0, 1, 2, 3, 4, 6, 7):
        add(_tagless(f"cp125{n}"), f"CP125{n}", f"WINDOWS-125{n}")
    add(_tagless("koi8_r"), "KOI8-R")
    add(_tagless("koi8_u"), "KOI8-U")
    for n in (437, 850, 852, 855, 866):
        add(_tagless(f"cp{n}"), f"CP{n}", f"IBM{n}", f"{n}")
    return table


_ENCODERS = _encoders()


def _encode_to_worktree(data: bytes, encoding: str, path: str) -> bytes:
    """convert.c encode_to_worktree() → utf8.c reencode_string_len(): UTF-8 to
    ``encoding``. When iconv fails (content that is not UTF-8, or a character the
    encoding lacks) git reports an error and writes the content unconverted."""
    if not data:
        return data
    encoder: _Encoder | None = None
    # git's own names: it writes the BOM itself, then iconv's UTF-16LE or UTF-16BE.
    if _same_utf_encoding("UTF-16LE-BOM", encoding):
        encoder = _bom(codecs.BOM_UTF16_LE, "utf-16-le")
    elif _same_utf_encoding("UTF-16BE-BOM", encoding):
        encoder = _bom(codecs.BOM_UTF16_BE, "utf-16-be")
    elif encoding.isascii():
        encoder = _ENCODERS.get(encoding.upper())
        if encoder is None and _ascii_lower(encoding) == b"latin-1":
            encoder = _ENCODERS["ISO-8859-1"]  # utf8.c fallback_encoding()
    if encoder is None:
        raise UnsupportedAttributeError(
            f"{path}: working-tree-encoding={encoding} is not an encoding gosub can "
            "reproduce exactly"
        )
    try:
        return encoder(data.decode("utf-8"))
    except UnicodeError:
        return data


def convert_for_go_archive(
    data: bytes, attrs: Mapping[str, State], blob_sha: str, path: str
) -> bytes:
    """What ``git -c core.autocrlf=input -c core.eol=lf archive`` writes for a regular
    file whose raw blob is ``data`` (object id ``blob_sha``) and whose attributes are
    ``attrs`` (from :meth:`Attributes.lookup` with ``go=True``; without it the result
    differs only in the absurd case of a macro named export-ignore or export-subst).

    convert.c convert_to_working_tree_ca_internal(), in its order: ident, then end of
    line, then working-tree-encoding, then the smudge filter (a no-op: no
    ``filter.<name>`` driver is configured, so ``filter=`` attributes do nothing).

    Raises :class:`UnsupportedAttributeError` when git itself fails on this file
    (``working-tree-encoding`` set instead of given a value) or uses an encoding
    gosub cannot reproduce."""
    # convert.c git_path_check_encoding(), for every file git converts: set (true) is
    # fatal; unset (false) reads as an empty string, which means no encoding.
    encoding = attrs.get("working-tree-encoding")
    if encoding is True:
        raise UnsupportedAttributeError(
            f"{path}: git archive fails: true/false are no valid working-tree-encodings"
        )
    if attrs.get("ident") is True:
        data = _ident_to_worktree(data, blob_sha)
    data = _crlf_to_worktree(data, _go_crlf_action(attrs))
    if isinstance(encoding, str) and encoding and not _same_encoding(encoding, "UTF-8"):
        data = _encode_to_worktree(data, encoding, path)
    return data
