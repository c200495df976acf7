import BSON
import NIOCore
import Testing
import Wire

/// Parses `bytes` (one whole message) as an OP_MSG.
private func parseMsg(_ bytes: [UInt8]) throws -> OpMsg {
    try OpMsg(frame: try decodeFrame(bytes))
}

/// Expects `bytes` to be well framed but refused: `.rejected` with 22 InvalidBSON.
func expectRejected(_ bytes: [UInt8], legacy: Bool, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let request = try WireRequest.parse(try decodeFrame(bytes))
    guard case .rejected(let rejection) = request else {
        Issue.record("expected .rejected, got \(request)", sourceLocation: sourceLocation)
        return
    }
    #expect(rejection.code == 22 && rejection.codeName == "InvalidBSON", sourceLocation: sourceLocation)
    #expect(rejection.error.kind == .invalidBSON, sourceLocation: sourceLocation)
    #expect(rejection.legacy == legacy, sourceLocation: sourceLocation)
}

/// Expects parsing `bytes` as an OP_MSG to fail with `kind`.
private func expectMsgError(
    _ kind: WireProtocolError.Kind, _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let frame = try decodeFrame(bytes)
    let error = #expect(throws: WireProtocolError.self, sourceLocation: sourceLocation) { try WireRequest.parse(frame) }
    #expect(error?.kind == kind, "\(error?.message ?? "no error")", sourceLocation: sourceLocation)
    #expect(error?.message.isEmpty == false, sourceLocation: sourceLocation)
}

@Suite struct OpMsgTests {
    static let ping: BSONDocument = ["ping": 1, "$db": "admin"]

    @Test func pymongoHello() throws {
        let request = try WireRequest.parse(try decodeFrame(Fixtures.pymongoHello))
        guard case .msg(let msg) = request else {
            Issue.record("expected .msg, got \(request)")
            return
        }
        #expect(msg.flags == [])
        #expect(!msg.moreToCome && !msg.checksumPresent && !msg.exhaustAllowed)
        #expect(msg.body == Fixtures.pymongoHelloBody)
        #expect(msg.body.keys == ["ismaster", "helloOk", "client", "compression", "$db"])
        #expect(msg.body["$db"] == "admin")
        #expect(msg.documentSequences.isEmpty)
        #expect(try msg.mergedBody() == msg.body)
    }

    @Test func insertWithDocumentSequence() throws {
        let msg = try parseMsg(Fixtures.insertWithSequence)
        #expect(msg.body == Fixtures.insertBody)
        #expect(msg.documentSequences.count == 1)
        #expect(msg.documentSequences.first?.identifier == "documents")
        #expect(msg.documents(for: "documents") == Fixtures.chunkDocuments)
        #expect(msg.documents(for: "updates") == nil)
        let merged = try msg.mergedBody()
        #expect(merged.keys == ["insert", "ordered", "lsid", "$db", "documents"])
        #expect(merged["documents"] == .array(Fixtures.chunkDocuments.map { .document($0) }))
    }

    @Test func sequenceBeforeBodyAndEmptySequence() throws {
        var s = Bytes()
        s.sequence("updates", [])
        s.bytes += Fixtures.bodySection(["update": "fs.files", "$db": "test"])
        s.sequence("documents", [Fixtures.chunkDocuments[0].bytes])
        let msg = try parseMsg(Fixtures.opMsg(sections: s.bytes))
        #expect(msg.documentSequences.map(\.identifier) == ["updates", "documents"])
        #expect(msg.documents(for: "updates") == [])
        #expect(msg.body["update"] == "fs.files")
    }

    @Test func flags() throws {
        let body = Fixtures.bodySection(Self.ping)
        let more = try parseMsg(Fixtures.opMsg(flags: 1 << 1, sections: body))
        #expect(more.moreToCome)
        let exhaust = try parseMsg(Fixtures.opMsg(flags: 1 << 16, sections: body))
        #expect(exhaust.exhaustAllowed)
        // Unknown optional bits (16–31) are ignored.
        let optional = try parseMsg(Fixtures.opMsg(flags: 1 << 20 | 1 << 31, sections: body))
        #expect(optional.body == Self.ping)
    }

    @Test(arguments: [0x4, 0x8, 0x100, 0x8000, 0x1_0004] as [UInt32])
    func unknownRequiredFlagBitsAreRejected(flags: UInt32) throws {
        try expectMsgError(.unknownRequiredFlags, Fixtures.opMsg(flags: flags, sections: Fixtures.bodySection(Self.ping)))
    }

    @Test func goodChecksum() throws {
        let bytes = Fixtures.opMsg(flags: 1, sections: Fixtures.insertWithSequenceSections)
        let msg = try parseMsg(bytes)
        #expect(msg.checksumPresent)
        #expect(msg.documents(for: "documents") == Fixtures.chunkDocuments)
        // With moreToCome as well, split anywhere.
        let both = Fixtures.opMsg(flags: 3, sections: Fixtures.bodySection(Self.ping))
        for split in 0...both.count {
            let frames = try decodeChunks([both[..<split], both[split...]])
            #expect(try frames.map { try OpMsg(frame: $0).body } == [Self.ping])
        }
    }

    @Test func badChecksum() throws {
        try expectMsgError(
            .checksumMismatch, Fixtures.opMsg(flags: 1, sections: Fixtures.bodySection(Self.ping), corruptChecksum: true)
        )
        // A correct checksum over a message altered afterwards.
        var altered = Fixtures.opMsg(flags: 1, sections: Fixtures.bodySection(Self.ping))
        altered[8] ^= 1  // responseTo
        try expectMsgError(.checksumMismatch, altered)
        // The checksum flag without room for a checksum.
        try expectMsgError(.truncated, Fixtures.message(requestID: 1, opCode: 2013, body: [1, 0, 0, 0, 0, 0]))
    }

    @Test func checksumFlagWithoutChecksumBytes() throws {
        // Bit 0 set but the sender appended nothing: the last four bytes of the body are taken
        // as the checksum and do not match.
        var b = Bytes()
        b.uint32(1)
        b.bytes += Fixtures.bodySection(Self.ping)
        try expectMsgError(.checksumMismatch, Fixtures.message(requestID: 1, opCode: 2013, body: b.bytes))
    }

    @Test func truncatedFlags() throws {
        try expectMsgError(.truncated, Fixtures.message(requestID: 1, opCode: 2013, body: [0, 0]))
    }

    @Test func missingBody() throws {
        try expectMsgError(.missingBody, Fixtures.opMsg(sections: []))
        var s = Bytes()
        s.sequence("documents", [Fixtures.chunkDocuments[0].bytes])
        try expectMsgError(.missingBody, Fixtures.opMsg(sections: s.bytes))
    }

    @Test func repeatedBody() throws {
        let body = Fixtures.bodySection(Self.ping)
        try expectMsgError(.duplicateBody, Fixtures.opMsg(sections: body + body))
    }

    @Test(arguments: [UInt8(2), 3, 0x80, 0xFF])
    func unknownSectionKind(kind: UInt8) throws {
        try expectMsgError(.unknownSectionKind, Fixtures.opMsg(sections: Fixtures.bodySection(Self.ping) + [kind]))
    }

    @Test func bodyRunningPastTheFrame() throws {
        var section = Fixtures.bodySection(Self.ping)
        section.removeLast()  // the document declares one byte more than the frame holds
        try expectMsgError(.sectionOverrun, Fixtures.opMsg(sections: section))
        // Only a kind byte and part of a length.
        try expectMsgError(.sectionOverrun, Fixtures.opMsg(sections: [0, 0x10, 0]))
        // A document length of four (below the BSON minimum) is invalid.
        try expectMsgError(.invalidDocument, Fixtures.opMsg(sections: [0, 4, 0, 0, 0]))
    }

    @Test func sequenceRunningPastTheFrame() throws {
        var s = Bytes()
        s.bytes = Fixtures.bodySection(Self.ping)
        s.sequence("documents", [Fixtures.chunkDocuments[0].bytes], sizeAdjustment: 1)
        try expectMsgError(.sectionOverrun, Fixtures.opMsg(sections: s.bytes))
        // Size field itself cut off.
        try expectMsgError(.sectionOverrun, Fixtures.opMsg(sections: Fixtures.bodySection(Self.ping) + [1, 9, 0]))
    }

    @Test func sequenceNotFilledExactly() throws {
        let docs = [Fixtures.chunkDocuments[0].bytes, Fixtures.chunkDocuments[1].bytes]
        // Size too small: the last document runs past the section.
        var short = Bytes()
        short.bytes = Fixtures.bodySection(Self.ping)
        short.sequence("documents", docs, sizeAdjustment: -1)
        try expectMsgError(.invalidDocumentSequence, Fixtures.opMsg(sections: short.bytes + [0]))
        // Extra bytes after the last document, inside the declared size.
        for extra in 1...6 {
            var long = Bytes()
            long.bytes = Fixtures.bodySection(Self.ping)
            long.sequence("documents", docs + [Array(repeating: 0, count: extra)])
            let kind: WireProtocolError.Kind = extra < 4 ? .invalidDocumentSequence : .invalidDocument
            try expectMsgError(kind, Fixtures.opMsg(sections: long.bytes))
        }
        // A size too small to hold even the identifier terminator.
        try expectMsgError(.invalidDocumentSequence, Fixtures.opMsg(sections: Fixtures.bodySection(Self.ping) + [1, 4, 0, 0, 0]))
    }

    @Test func badIdentifiers() throws {
        // No terminator inside the section.
        var s = Bytes()
        s.bytes = Fixtures.bodySection(Self.ping)
        s.byte(1)
        s.int32(4 + 3)
        s.bytes += Array("doc".utf8)
        try expectMsgError(.invalidCString, Fixtures.opMsg(sections: s.bytes))
        // Empty identifier.
        var e = Bytes()
        e.bytes = Fixtures.bodySection(Self.ping)
        e.sequence("", [])
        try expectMsgError(.invalidDocumentSequence, Fixtures.opMsg(sections: e.bytes))
        // Invalid UTF-8.
        var u = Bytes()
        u.bytes = Fixtures.bodySection(Self.ping)
        u.byte(1)
        u.int32(4 + 3)
        u.bytes += [0xC3, 0x28, 0]
        try expectMsgError(.invalidCString, Fixtures.opMsg(sections: u.bytes))
    }

    @Test func repeatedSequenceIdentifier() throws {
        var s = Bytes()
        s.bytes = Fixtures.bodySection(Self.ping)
        s.sequence("documents", [])
        s.sequence("documents", [])
        try expectMsgError(.duplicateIdentifier, Fixtures.opMsg(sections: s.bytes))
    }

    @Test func sequenceShadowingBodyFieldIsRejectedWhenMerged() throws {
        var s = Bytes()
        s.bytes = Fixtures.bodySection(["insert": "c", "documents": [], "$db": "t"])
        s.sequence("documents", [])
        let msg = try parseMsg(Fixtures.opMsg(sections: s.bytes))
        let error = #expect(throws: WireProtocolError.self) { try msg.mergedBody() }
        #expect(error?.kind == .duplicateIdentifier)
    }

    @Test func invalidBSONIsRefusedNotFatal() throws {
        try expectRejected(Fixtures.opMsg(sections: [0] + Fixtures.invalidDocument), legacy: false)
        var s = Bytes()
        s.bytes = Fixtures.bodySection(Self.ping)
        s.sequence("documents", [Fixtures.chunkDocuments[0].bytes, Fixtures.invalidDocument])
        try expectRejected(Fixtures.opMsg(sections: s.bytes), legacy: false)
        // Missing trailing zero of the document.
        var noTerminator = Self.ping.bytes
        noTerminator[noTerminator.count - 1] = 1
        try expectRejected(Fixtures.opMsg(sections: [0] + noTerminator), legacy: false)
        // OpMsg itself still throws, with the non-fatal kind.
        let error = #expect(throws: WireProtocolError.self) {
            try OpMsg(frame: try decodeFrame(Fixtures.opMsg(sections: [0] + Fixtures.invalidDocument)))
        }
        #expect(error?.kind == .invalidBSON)
    }

    @Test func framingFaultAfterInvalidBSONStillCloses() throws {
        // An invalid body followed by an unknown section kind: the framing fault wins.
        try expectMsgError(.unknownSectionKind, Fixtures.opMsg(sections: [0] + Fixtures.invalidDocument + [7]))
        // A document length below 5 is a framing fault.
        try expectMsgError(.invalidDocument, Fixtures.opMsg(sections: [0, 4, 0, 0, 0]))
    }

    @Test func wrongOpCode() throws {
        let frame = try decodeFrame(Fixtures.libmongocIsMaster)
        let error = #expect(throws: WireProtocolError.self) { try OpMsg(frame: frame) }
        #expect(error?.kind == .unexpectedOpCode)
    }

    @Test func unsupportedOpCodes() throws {
        for code: Int32 in [2012, 1, 2002, 2005, 42] {
            let frame = try decodeFrame(Fixtures.message(requestID: 9, opCode: code, body: [1, 2, 3]))
            #expect(try WireRequest.parse(frame) == .unsupported(opCode: code))
        }
    }
}

extension Fixtures {
    /// The sections of ``insertWithSequence`` (body and `documents`), without flags.
    static var insertWithSequenceSections: [UInt8] { Array(insertWithSequence[20...]) }
}
