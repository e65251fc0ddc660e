"""Where the bytes of files live: a :class:`BlobStore`, content-addressed by SHA-256.

The service layer keeps what a file *is* (its name, who may download it, how long it
stays) in the repository; a blob store keeps only bytes, named by their SHA-256, and the
unfinished uploads they grow from. :class:`FileBlobStore` keeps them in a folder of the
server's disk; another store (an S3-compatible one, shared by several server nodes)
implements the same small interface.
"""

from messenger_server.blobs.base import BlobMissing, BlobReader, BlobStats, BlobStore, BlobWriter
from messenger_server.blobs.filesystem import FileBlobStore

__all__ = ["BlobMissing", "BlobReader", "BlobStats", "BlobStore", "BlobWriter", "FileBlobStore"]
