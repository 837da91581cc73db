"""The cache tiers: in-process memory and zip spool, and the persistent store (disk or
S3) behind the :class:`Store` protocol. ``gosub.store.s3`` is imported only by those who
use it (boto3)."""

from gosub.store.base import Store, namespace, store_key
from gosub.store.disk import DiskStore
from gosub.store.guarded import GuardedStore
from gosub.store.memory import ProcessCache, weight
from gosub.store.spool import StoredZip, ZipStore

__all__ = [
    "DiskStore",
    "GuardedStore",
    "ProcessCache",
    "Store",
    "StoredZip",
    "ZipStore",
    "namespace",
    "store_key",
    "weight",
]
