import BSON
import Foundation
import Query
import Storage

/// The GridFS checks of one bucket: every chunk and files document read and verified, then each
/// file's chunks compared with its `length` and `chunkSize`, orphans and duplicates found.
extension FsckChecker {
    mutating func checkBucket(database: String, bucket: String, files: CollectionEntry?, chunks: CollectionEntry?) throws {
        let isQuarantine = bucket.hasSuffix(".quarantine")
        var summary: FsckReport.BucketSummary? = FsckReport.BucketSummary(database: database, bucket: bucket)
        summary?.isQuarantine = isQuarantine
        let firstProblem = report.problems.count
        // files_id key → n → rows
        var chunkMap: [[UInt8]: [Int: [ChunkRow]]] = [:]
        var fileIdValues: [[UInt8]: BSONValue] = [:]
        if let chunks {
            try c.withStatement("SELECT rid, \(StoredDocument.columns) FROM \(chunks.table) ORDER BY rid") { s in
                while try s.step() {
                    let rid = s.int64(0)
                    let (doc, damaged) = readRow(s, chunks, &summary, quarantine: isQuarantine)
                    summary?.chunks += 1
                    guard let doc, let fid = doc["files_id"] else { continue }
                    let key = IndexKeyEncoder.encode(fid)
                    fileIdValues[key] = fid
                    var length = -1
                    if case .binary(let b)? = doc["data"] { length = b.data.count }
                    let n = doc["n"]?.intValue ?? -1
                    chunkMap[key, default: [:]][n, default: []].append(ChunkRow(rid: rid, length: length, damaged: damaged))
                }
            }
        }
        var seen = Set<[UInt8]>()
        var names: [String: String] = [:]
        if let files {
            try c.withStatement("SELECT rid, \(StoredDocument.columns) FROM \(files.table) ORDER BY rid") { s in
                while try s.step() {
                    let (doc, damaged) = readRow(s, files, &summary, quarantine: isQuarantine)
                    summary?.files += 1
                    guard let doc else { continue }
                    let id = doc["_id"] ?? .null
                    let key = IndexKeyEncoder.encode(id)
                    seen.insert(key)
                    var filename: String?
                    if case .string(let name)? = doc["filename"] { filename = name }
                    if let filename { names[Self.show(id)] = filename }
                    if isQuarantine {
                        var reason = "quarantined"
                        if case .document(let q)? = doc["quarantine"], case .string(let r)? = q["reason"] { reason = r }
                        report.quarantined.append(.init(database: database, bucket: bucket, filesId: Self.show(id),
                                                        filename: filename, reason: reason))
                        continue
                    }
                    var reasons = damaged ? ["files document damaged"] : []
                    reasons += checkFile(doc, id: id, filename: filename, chunks: chunkMap[key] ?? [:], files: files, chunksEntry: chunks)
                    if !reasons.isEmpty {
                        let doomed = Set(duplicateRows.map(\.rid))
                        let rids = (chunkMap[key] ?? [:]).values.flatMap { $0.map(\.rid) }.filter { !doomed.contains($0) }.sorted()
                        damagedFiles.append(DamagedFile(database: database, bucket: bucket, idKey: key, reasons: reasons,
                                                        filesRid: s.int64(0), filesTable: files.table,
                                                        chunksTable: chunks?.table, chunkRids: rids))
                    }
                }
            }
        }
        if !isQuarantine, let chunks {
            for (key, byN) in chunkMap.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) where !seen.contains(key) {
                let rows = byN.values.flatMap { $0 }
                if !options.youngOrphansAreProblems, case .objectId(let oid)? = fileIdValues[key],
                   Date().timeIntervalSince(oid.timestamp) < options.graceSeconds {
                    report.inFlightOrphanChunks += rows.count
                    for row in rows {
                        orphanRows.append(DoomedRow(table: chunks.table, rid: row.rid, filesId: fileIdValues[key], inFlight: true))
                    }
                    continue
                }
                let shown = fileIdValues[key].map(Self.show)
                problem(.orphanChunks, chunks, filesId: shown,
                        detail: "\(rows.count) chunk(s) of files_id \(shown ?? "?") have no files document")
                for row in rows { orphanRows.append(DoomedRow(table: chunks.table, rid: row.rid, filesId: fileIdValues[key])) }
            }
        }
        for i in firstProblem..<report.problems.count {
            summary?.problems[report.problems[i].kind, default: 0] += 1
            if report.problems[i].filename == nil, let id = report.problems[i].filesId {
                report.problems[i].filename = names[id]
            }
        }
        if let summary { report.buckets.append(summary) }
    }

    /// Compares one files document with its chunks; returns why the file is damaged (empty: it is not).
    private mutating func checkFile(_ doc: BSONDocument, id: BSONValue, filename: String?, chunks byN: [Int: [ChunkRow]],
                                    files: CollectionEntry, chunksEntry: CollectionEntry?) -> [String] {
        let shown = Self.show(id)
        let where_ = chunksEntry ?? files
        guard let length = doc["length"]?.intValue, let chunkSize = doc["chunkSize"]?.intValue, chunkSize > 0, length >= 0 else {
            problem(.badFilesDocument, files, filesId: shown, filename: filename, detail: "file \(shown) has no valid length or chunkSize")
            return ["no valid length or chunkSize"]
        }
        var reasons: [String] = []
        let (quotient, overflow) = length.addingReportingOverflow(chunkSize - 1)
        let expected = overflow ? Int.max / chunkSize : quotient / chunkSize
        var structural = false
        for n in byN.keys.sorted() {
            guard let rows = byN[n] else { continue }
            if rows.count > 1 {
                problem(.duplicateChunk, where_, filesId: shown, filename: filename, n: n,
                        detail: "file \(shown) has \(rows.count) chunks with n=\(n)")
                // Keep one good copy (the first that verifies), delete the others.
                let keep = rows.firstIndex { !$0.damaged } ?? 0
                for (i, row) in rows.enumerated() where i != keep {
                    duplicateRows.append(DoomedRow(table: where_.table, rid: row.rid, filesId: nil))
                }
            }
            let kept = rows.first { !$0.damaged } ?? rows[0]
            if kept.damaged {
                reasons.append("chunk \(n) damaged")
            }
            if n < 0 || n >= expected {
                problem(.extraChunk, where_, filesId: shown, filename: filename, n: n,
                        detail: "file \(shown) has a chunk n=\(n) past its end (\(expected) chunks expected)")
                reasons.append("extra chunk \(n)")
                structural = true
                continue
            }
            let size = n == expected - 1 ? length - n * chunkSize : chunkSize
            if kept.length != size && !kept.damaged {
                problem(.wrongChunkSize, where_, filesId: shown, filename: filename, n: n,
                        detail: "file \(shown) chunk n=\(n) has \(kept.length) bytes, expected \(size)")
                reasons.append("chunk \(n) has the wrong size")
                structural = true
            }
        }
        var missing: [Int] = []
        if expected <= 1 << 24 {
            for n in 0..<expected where byN[n] == nil { missing.append(n) }
        }
        if !missing.isEmpty {
            let list = missing.prefix(10).map(String.init).joined(separator: ", ") + (missing.count > 10 ? ", …" : "")
            problem(.missingChunk, where_, filesId: shown, filename: filename, n: missing.first,
                    detail: "file \(shown) is missing \(missing.count) chunk(s): n=\(list)")
            reasons.append("\(missing.count) chunk(s) missing")
            structural = true
        }
        // Do the chunks add up to `length`? (Reported beside the chunk-level findings, which say where.)
        let total = byN.values.compactMap { rows in rows.first { !$0.damaged } ?? rows.first }.reduce(0) { $0 + max(0, $1.length) }
        if total != length, !byN.values.contains(where: { $0.allSatisfy(\.damaged) }) {
            problem(.lengthMismatch, files, filesId: shown, filename: filename,
                    detail: "file \(shown) says length \(length) but its chunks hold \(total) bytes")
            reasons.append("length \(length) disagrees with the chunks (\(total) bytes)")
        }
        _ = structural
        return reasons
    }
}
