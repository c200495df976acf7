import BSON
import Storage
import Testing

/// The engine-neutral GridFS rule behind `validate` (both engines feed it their documents).
@Suite struct GridFSBucketCheckTests {
    func chunk(_ fid: Int32, _ n: Int32, _ size: Int) -> BSONDocument {
        var doc: BSONDocument = ["_id": .int32(fid * 100 + n), "files_id": .int32(fid), "n": .int32(n)]
        doc.appendBinary("data", subtype: 0, payload: [UInt8](repeating: 7, count: size))
        return doc
    }

    func file(_ id: Int32, length: BSONValue, chunkSize: BSONValue = .int32(4)) -> BSONDocument {
        ["_id": .int32(id), "length": length, "chunkSize": chunkSize]
    }

    @Test func aCompleteBucketHasNoFindings() {
        var check = GridFSBucketCheck()
        for c in [chunk(1, 0, 4), chunk(1, 1, 4), chunk(1, 2, 2), chunk(2, 0, 4)] { check.chunk(c) }
        check.file(file(1, length: .int64(10)))
        check.file(file(2, length: .int64(4)))
        check.file(file(3, length: .int64(0)))
        #expect(check.finish().isEmpty)
    }

    @Test func missingExtraWrongSizeAndOrphanChunksAreFound() {
        var check = GridFSBucketCheck()
        for c in [chunk(1, 0, 4), chunk(1, 2, 1), chunk(1, 3, 4), chunk(2, 0, 3), chunk(9, 0, 4)] { check.chunk(c) }
        check.file(file(1, length: .int64(10)))
        check.file(file(2, length: .int64(4)))
        check.file(file(4, length: .string("x")))
        #expect(check.finish() == [
            "file 1 is missing chunk 1",
            "file 1 chunk 2 has 1 bytes, expected 2",
            "file 1 has an extra chunk 3",
            "file 2 chunk 0 has 3 bytes, expected 4",
            "file 4 has no valid length or chunkSize",
            "orphaned chunks: files_id 9 has no files document",
        ])
    }

    @Test func clientStoredNumbersNeverTrapOrWalkForever() {
        var check = GridFSBucketCheck()
        check.chunk(chunk(1, 0, 2))
        check.file(file(1, length: .int64(Int64.max), chunkSize: .int32(2)))
        check.file(file(2, length: .int64(Int64.max), chunkSize: .int32(1)))
        check.file(file(3, length: .int64(-1)))
        check.file(file(4, length: .int64(8), chunkSize: .int32(0)))
        let found = check.finish()
        #expect(found.count == 4)
        #expect(found[0].contains("declares 4611686018427387904 chunks and has 1"))
        #expect(found[1].contains("declares 9223372036854775807 chunks and has 0"))
        #expect(found[2].hasSuffix("has no valid length or chunkSize") && found[3].hasSuffix("has no valid length or chunkSize"))
    }
}
