@_exported import MongoErrors

/// An error raised by a storage backend: the shared ``MongoError``.
public typealias StorageError = MongoError

/// The codes the storage layer raises are the shared ``ErrorCode`` table.
public typealias StorageErrorCode = ErrorCode
