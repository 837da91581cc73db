"""Code hosts behind the :class:`Source` protocol, in git's terms only (tags, commits,
files, archives), and the factory (:class:`Sources`) that opens one for a config."""

from gosub.sources.base import Archive, ArchiveFile, Commit, RetryPolicy, Source
from gosub.sources.factory import Sources

__all__ = ["Archive", "ArchiveFile", "Commit", "RetryPolicy", "Source", "Sources"]
