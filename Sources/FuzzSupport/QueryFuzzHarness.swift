import BSON
import Foundation
import Query
import Storage

/// The query-engine target: the input's bytes are choices in ``Grammar`` (as for the command
/// target), which builds documents, a filter, a projection, a sort, an update, an expression and a
/// pipeline; they are parsed and applied in memory by the `Query` module and the `Storage` rules every
/// engine shares, exactly the code a `find`/`update`/`aggregate` runs once its documents are read.
/// No storage engine and no SQLite: thousands of inputs per second.
///
/// Beyond "does not crash", it checks properties the engines rely on:
/// - what an update, an upsert, a projection or a pipeline produces is valid BSON (an update keeps
///   `_id`, and a stored document is never nested past the storage limit);
/// - the sort order is a total order on the documents (antisymmetric, transitive) and the bounded
///   top-k sort (`BlockingSort` with skip and limit, as a sorted `find` runs) returns exactly the
///   slice of a full sort;
/// - `IndexKeyEncoder` orders values as `compareBSON` does (its contract, which every index range
///   scan depends on): memcmp of two encodings has the sign of the comparison, and equal values
///   encode identically;
/// - filter matching is deterministic.
public enum QueryFuzzHarness {
    /// Runs one input (libFuzzer's callback).
    public static func run(_ data: UnsafeBufferPointer<UInt8>) {
        run(Array(data))
    }

    /// Runs one input (libFuzzer's callback, the replay tool and the regression test).
    public static func run(_ bytes: [UInt8]) {
        var grammar = Grammar(bytes)
        var documents = CommandFuzzHarness.fixture.compactMap { value -> BSONDocument? in
            guard case .document(let d) = value else { return nil }
            return d
        }
        for _ in 0..<grammar.smallCount(3) {
            var doc = grammar.document(depth: 3)
            if grammar.input.chance(50) { doc = doc.prepending("_id", grammar.value(depth: 1)) }
            documents.append(doc)
        }
        // Keep only what an insert would have stored (valid, not too deep).
        documents = documents.filter { (try? BSONDocument(validating: $0.bytes)) != nil && $0.storageDepth <= BSONDocument.maxStorageDepth }

        checkFilter(grammar.filter(), documents)
        checkProjection(grammar.projection(), documents)
        checkSort(grammar.sort(), documents, skip: grammar.input.pick([0, 0, 1, 3, 30, 100]), limit: grammar.input.pick([0, 1, 2, 5, 40, 100]))
        checkUpdate(grammar.update(), filter: grammar.filter(), documents)
        checkExpression(grammar.expression(depth: 3), documents)
        checkPipeline(grammar.pipeline(), documents)
        checkKeyOrder(documents)
    }

    static func checkFilter(_ spec: BSONDocument, _ documents: [BSONDocument]) {
        guard let filter = try? Filter(spec) else { return }
        for doc in documents where filter.matches(doc) != filter.matches(doc) {
            fail("a filter matched a document once and not the second time", spec)
        }
        _ = try? filter.checkMatching()
    }

    static func checkProjection(_ spec: BSONDocument, _ documents: [BSONDocument]) {
        guard let projection = try? Projection(spec) else { return }
        for doc in documents {
            guard let result = try? projection.apply(to: doc) else { continue }
            checkValid(result, "a projection", spec)
        }
    }

    static func checkSort(_ spec: BSONDocument, _ documents: [BSONDocument], skip: Int, limit: Int) {
        guard let sort = try? SortSpec(spec) else { return }
        let keys = documents.map { sort.sortKey(for: $0) }
        for i in keys.indices {
            if sort.compareKeys(keys[i], keys[i]) != 0 { fail("a sort key does not compare equal to itself", spec) }
            for j in keys.indices {
                let ij = sort.compareKeys(keys[i], keys[j]).signum()
                if ij != -sort.compareKeys(keys[j], keys[i]).signum() { fail("the sort order is not antisymmetric", spec) }
                guard ij <= 0 else { continue }
                for k in keys.indices where sort.compareKeys(keys[j], keys[k]) <= 0 && sort.compareKeys(keys[i], keys[k]) > 0 {
                    fail("the sort order is not transitive", spec)
                }
            }
        }
        // The top-k sort must return the slice of a full, stable sort. Eight rounds of the
        // documents (ties broken by arrival), so it holds more than the 64 items at which it trims.
        let rounds = Array(repeating: documents.indices, count: 8).joined().map { $0 }
        let order = rounds.indices.sorted { a, b in
            let c = sort.compareKeys(keys[rounds[a]], keys[rounds[b]])
            return c != 0 ? c < 0 : a < b
        }
        let expected = Array(order.dropFirst(skip).prefix(limit > 0 ? limit : order.count))
        var bounded = BlockingSort<Int>(sort: sort, skip: skip, limit: limit)
        for (arrival, index) in rounds.enumerated() {
            do {
                try bounded.add(documents[index], arrival)
            } catch {
                fail("a sort of a few small documents ran out of memory", spec)
            }
        }
        if bounded.finish().map(\.payload) != expected { fail("BlockingSort with skip \(skip) limit \(limit) differs from a full sort", spec) }
    }

    static func checkUpdate(_ update: BSONValue, filter: BSONDocument, _ documents: [BSONDocument]) {
        guard case .document(let document) = update, let spec = try? UpdateSpec(document) else { return }
        for doc in documents {
            guard let result = try? UpdateRules.updated(doc, with: spec) else { continue }
            checkValid(result, "an update", document)
            if let id = doc["_id"], result["_id"]?.encodedBytes != id.encodedBytes {
                fail("an update changed or lost _id", document)
            }
        }
        if let parsed = try? Filter(filter), let inserted = try? UpdateRules.upsertDocument(filter: parsed, update: spec) {
            checkValid(inserted, "an upsert", document)
            if inserted.keys.first != "_id" { fail("an upsert's document does not start with _id", document) }
        }
    }

    static func checkExpression(_ value: BSONValue, _ documents: [BSONDocument]) {
        guard let expression = try? Expression.parse(value) else { return }
        for doc in documents {
            guard let result = try? expression.evaluate(doc) else { continue }
            checkValid(BSONDocument([("v", result)]), "an expression", ["e": value])
        }
    }

    static func checkPipeline(_ stages: [BSONValue], _ documents: [BSONDocument]) {
        var parsed: [BSONDocument] = []
        for case .document(let stage) in stages { parsed.append(stage) }
        guard parsed.count == stages.count, let pipeline = try? Pipeline(stages: parsed) else { return }
        guard let output = try? pipeline.run(documents) else { return }
        for doc in output { checkValid(doc, "a pipeline", ["pipeline": .array(stages)]) }
    }

    /// `IndexKeyEncoder`'s contract on every pair of values found in the documents.
    static func checkKeyOrder(_ documents: [BSONDocument]) {
        var values: [BSONValue] = []
        for doc in documents {
            for (_, value) in doc.pairs {
                values.append(value)
                if case .array(let items) = value { values += items.prefix(8) }
            }
        }
        let encoded = values.map { IndexKeyEncoder.encode($0) }
        for i in values.indices {
            for j in values.indices where j > i {
                let order = compareBSON(values[i], values[j]).signum()
                let bytes = compareBytes(encoded[i], encoded[j])
                if order != bytes {
                    fail("IndexKeyEncoder orders \(values[i]) and \(values[j]) as \(bytes), compareBSON as \(order)",
                         ["a": values[i], "b": values[j]])
                }
            }
        }
    }

    /// memcmp order of two byte strings (a proper prefix sorts first), as -1, 0 or 1.
    static func compareBytes(_ a: [UInt8], _ b: [UInt8]) -> Int {
        for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    /// A produced document must be valid BSON; only nesting past the validator's limit is allowed
    /// here (the write path refuses such a document with its own error).
    static func checkValid(_ doc: BSONDocument, _ what: String, _ spec: BSONDocument) {
        do {
            try BSONDocument.validate(doc.bytes)
        } catch {
            if error.message.contains("nested deeper") { return }
            fail("\(what) produced invalid BSON (\(error))", spec)
        }
    }

    /// The oracle: stop the run so libFuzzer saves the input.
    static func fail(_ message: String, _ spec: BSONDocument) -> Never {
        fatalError("fuzz query: \(message); spec \(spec.relaxedExtendedJSON.prefix(400))")
    }
}
