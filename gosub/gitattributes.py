"""``.gitattributes`` as ``git archive`` applies them, for the files GitHub's archive alters.

Go builds a module zip with ``git -c core.autocrlf=input -c core.eol=lf archive`` after
adding ``* -export-subst -export-ignore`` to ``info/attributes``
(cmd/go/internal/modfetch/codehost/git.go ReadZip): export-ignore and export-subst are off,
every other attribute applies. GitHub's archives honour export-ignore and export-subst, so
gosub re-reads those files' raw blobs and converts them here as git would.

Follows git's attr.c (file precedence, pattern rules, macros) and convert.c (ident, then
eol, then working-tree-encoding; a smudge filter needs user configuration, which Go's
reference environment does not have, so ``filter`` is a no-op). Knows nothing of Go or HTTP.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass

State = str | bool  # True = set, False = unset, str = value

# attr.c: the built-in macro.
_BUILTIN_MACROS: dict[str, list[tuple[str, State | None]]] = {
    "binary": [("diff", False), ("merge", False), ("text", False)],
}


class UnsupportedAttributeError(Exception):
    """An attribute gosub cannot reproduce exactly (e.g. an unknown encoding)."""


@dataclass(frozen=True)
class _Rule:
    base: str  # directory of the .gitattributes ("" at the root)
    regex: re.Pattern[str]
    basename_only: bool
    must_be_dir: bool
    attrs: tuple[tuple[str, State | None], ...]  # None = unspecified ("!attr")


def _unquote(pattern: str) -> str:
    """A C-style quoted pattern (attr.c uses unquote_c_style)."""
    body = pattern[1:-1]
    return (
        codecs.decode(body.encode("latin-1", "backslashreplace"), "unicode_escape")
        .encode("latin-1")
        .decode("utf-8", "surrogateescape")
    )


def _wildmatch_regex(pattern: str) -> str:
    """Translate a wildmatch pattern (WM_PATHNAME) into a regex (git's wildmatch.c)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                before_ok = i == 0 or pattern[i - 1] == "/"
                after = i + 2
                if before_ok and (after == n or pattern[after] == "/"):
                    if after == n:
                        out.append(".*")
                        i = after
                    else:
                        out.append("(?:.*/)?")
                        i = after + 1
                    continue
                out.append("[^/]*")
                i = after
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i + 1
            if j < n and pattern[j] in "!^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : j]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                body = body.replace("\\", "\\\\")
                out.append(f"(?!/)[{body}]")
                i = j
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _parse_attr(token: str) -> tuple[str, State | None]:
    if token.startswith("-"):
        return token[1:], False
    if token.startswith("!"):
        return token[1:], None
    name, eq, value = token.partition("=")
    return (name, value) if eq else (name, True)


class Attributes:
    """The attributes that apply in one tree, built from its ``.gitattributes`` files."""

    def __init__(self, rules: list[_Rule], macros: dict[str, list[tuple[str, State | None]]]):
        self._rules = rules
        self._macros = macros

    @classmethod
    def from_files(cls, files: Mapping[str, bytes]) -> Attributes:
        """``files`` maps each ``.gitattributes`` path in the tree to its content."""
        macros = dict(_BUILTIN_MACROS)
        rules: list[_Rule] = []
        # attr.c: shallower files first, deeper ones override them.
        for path in sorted(files, key=lambda p: (p.count("/"), p)):
            base = path.rpartition("/")[0]
            text = files[path].decode("utf-8", "surrogateescape")
            for raw in text.splitlines():
                line = raw.strip(" \t\r")
                if not line or line.startswith("#"):
                    continue
                if line.startswith('"'):
                    end = line.find('"', 1)
                    while end > 0 and line[end - 1] == "\\":
                        end = line.find('"', end + 1)
                    if end < 0:
                        continue
                    pattern, rest = _unquote(line[: end + 1]), line[end + 1 :]
                else:
                    parts = line.split(None, 1)
                    pattern, rest = parts[0], parts[1] if len(parts) > 1 else ""
                attrs = tuple(_parse_attr(t) for t in rest.split())
                if pattern.startswith("[attr]"):
                    # Macros may only be defined at the top level (attr.c).
                    if base == "":
                        macros[pattern[len("[attr]") :]] = list(attrs)
                    continue
                if pattern.startswith("!"):
                    continue  # negative patterns are forbidden in .gitattributes
                must_be_dir = pattern.endswith("/")
                pattern = pattern.rstrip("/")
                if not pattern:
                    continue
                basename_only = "/" not in pattern
                pattern = pattern.lstrip("/")
                rules.append(
                    _Rule(
                        base,
                        re.compile(_wildmatch_regex(pattern) + r"\Z", re.DOTALL),
                        basename_only,
                        must_be_dir,
                        attrs,
                    )
                )
        return cls(rules, macros)

    def lookup(self, path: str) -> dict[str, State]:
        """Attribute states for ``path`` (a trailing ``/`` marks a directory)."""
        is_dir = path.endswith("/")
        path = path.rstrip("/")
        result: dict[str, State | None] = {}
        for rule in self._rules:
            if rule.base and not path.startswith(rule.base + "/"):
                continue
            if rule.must_be_dir and not is_dir:
                continue
            rel = path[len(rule.base) + 1 :] if rule.base else path
            subject = rel.rpartition("/")[2] if rule.basename_only else rel
            if not rule.regex.match(subject):
                continue
            for name, state in rule.attrs:
                result[name] = state
                if state is not None and state is not False and name in self._macros:
                    for mname, mstate in self._macros[name]:
                        result[mname] = mstate
        return {k: v for k, v in result.items() if v is not None}

    def altered_by_github_archive(self, path: str) -> bool:
        """Whether GitHub's archive (export-ignore and export-subst honoured) differs from
        Go's for this file: export-subst on it, or export-ignore on it or a parent."""
        attrs = self.lookup(path)
        if attrs.get("export-subst") is True or attrs.get("export-ignore") is True:
            return True
        parts = path.split("/")
        return any(
            self.lookup("/".join(parts[:i]) + "/").get("export-ignore") is True
            for i in range(1, len(parts))
        )


def _crlf_action(attrs: Mapping[str, State]) -> str:
    text: State | None = attrs.get("text")
    eol: State | None
    crlf = attrs.get("crlf")  # the legacy attribute
    if text is None and crlf is not None:
        text = True if crlf is True else False if crlf is False else None
        if crlf == "input":
            text, eol = True, "lf"
        else:
            eol = attrs.get("eol")
    else:
        eol = attrs.get("eol")
    if text is False:
        return "binary"
    if text == "auto":
        return "auto_crlf" if eol == "crlf" else "auto_input"
    if text is True:
        return "text_crlf" if eol == "crlf" else "text_input"
    # text unspecified: an eol attribute implies text.
    if eol == "crlf":
        return "text_crlf"
    if eol == "lf":
        return "text_input"
    return "auto_input"  # core.autocrlf=input


def _ident(data: bytes, blob_sha: str) -> bytes:
    """convert.c ident_to_worktree: ``$Id$`` / ``$Id: ... $`` → ``$Id: <sha> $``."""

    def repl(m: re.Match[bytes]) -> bytes:
        return b"$Id: " + blob_sha.encode() + b" $"

    return re.sub(rb"\$Id(?::[^$\n]*)?\$", repl, data)


def _to_crlf(data: bytes, action: str) -> bytes:
    """convert.c crlf_to_worktree / will_convert_lf_to_crlf."""
    lonelf = len(re.findall(rb"(?<!\r)\n", data))
    if not data or not lonelf:
        return data
    if action == "auto_crlf":
        crlf = data.count(b"\r\n")
        lonecr = len(re.findall(rb"\r(?!\n)", data))
        if lonecr or crlf:
            return data
        # convert.c convert_is_binary: NUL, lone CR, or too many non-printables.
        printable = nonprintable = 0
        for b in data:
            if b == 127 or (b < 32 and b not in (8, 9, 10, 12, 13, 27)):
                nonprintable += 1
            else:
                printable += 1
        if b"\0" in data or (printable >> 7) < nonprintable:
            return data
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def _encode(data: bytes, encoding: str, path: str) -> bytes:
    """convert.c encode_to_worktree: re-encode UTF-8 content to the given encoding."""
    enc = encoding.upper()
    if enc in ("UTF-8", "UTF8"):
        return data
    try:
        text = data.decode("utf-8")
        if enc in ("UTF-16", "UTF-32"):
            # glibc iconv writes a BOM and big-endian for the plain names.
            bom = codecs.BOM_UTF16_BE if enc == "UTF-16" else codecs.BOM_UTF32_BE
            return bom + text.encode(enc.lower() + "-be")
        codecs.lookup(encoding)
        return text.encode(encoding)
    except (LookupError, UnicodeError) as exc:
        raise UnsupportedAttributeError(
            f"{path}: cannot apply working-tree-encoding={encoding} ({exc})"
        ) from exc


def convert_for_go_archive(
    data: bytes, attrs: Mapping[str, State], blob_sha: str, path: str
) -> bytes:
    """What ``git -c core.autocrlf=input -c core.eol=lf archive`` writes for a blob with
    these attributes: ident, then eol, then working-tree-encoding (convert.c order)."""
    if attrs.get("ident") is True:
        data = _ident(data, blob_sha)
    action = _crlf_action(attrs)
    if action in ("text_crlf", "auto_crlf"):
        data = _to_crlf(data, action)
    enc = attrs.get("working-tree-encoding")
    if isinstance(enc, str) and enc:
        data = _encode(data, enc, path)
    return data


__all__ = ["Attributes", "UnsupportedAttributeError", "convert_for_go_archive"]
