import BSON
import Foundation
import Logging
import Testing

@testable import Commands

/// `hello {compression: [...]}`: the intersection with the server's list, in the client's order.
@Suite struct HelloCompressionTests {
    static let offered = ["snappy", "zstd", "zlib"]

    static func names(_ values: [String]) -> BSONValue { .array(values.map { .string($0) }) }

    @Test func intersectionKeepsTheClientsOrder() {
        #expect(HelloCommand.negotiateCompression(Self.names(["zlib", "snappy"]), offered: Self.offered) == ["zlib", "snappy"])
        #expect(HelloCommand.negotiateCompression(Self.names(["zstd", "lz4", "zlib", "zstd"]), offered: Self.offered) == ["zstd", "zlib"])
        #expect(HelloCommand.negotiateCompression(Self.names(["noop"]), offered: Self.offered) == [])
        #expect(HelloCommand.negotiateCompression(Self.names(["snappy", "zstd"]), offered: ["zlib"]) == [])
        #expect(HelloCommand.negotiateCompression(Self.names(["snappy", "zlib"]), offered: []) == [])
    }

    @Test func oddShapesNegotiateNothingAndNeverFail() {
        #expect(HelloCommand.negotiateCompression(nil, offered: Self.offered) == [])
        #expect(HelloCommand.negotiateCompression(.string("snappy"), offered: Self.offered) == [])
        #expect(HelloCommand.negotiateCompression(.array([.int32(1), .string("zlib"), .null]), offered: Self.offered) == ["zlib"])
    }

    /// A context whose server offers `offered`.
    func context(offered: [String]) async throws -> CommandContext {
        let base = try await makeTestContext()
        let env = ServerEnvironment(
            gridliteVersion: "test", argv: ["gridlite", "serve"], parsedOptions: [:], storageEngineName: "sqlite",
            networkMessageCompressors: offered)
        return CommandContext(
            environment: env, connection: base.connection, logger: base.logger, storage: base.storage, cursors: base.cursors)
    }

    @Test(arguments: ["hello", "isMaster", "ismaster"])
    func helloAnswersWithTheAgreedList(name: String) async throws {
        let context = try await context(offered: Self.offered)
        let reply = try await run([name: .int32(1), "compression": Self.names(["zstd", "snappy"])], context: context)
        #expect(reply["compression"] == Self.names(["zstd", "snappy"]))
        #expect(reply["ok"] == .double(1))
    }

    @Test func noCommonCompressorMeansNoField() async throws {
        let context = try await context(offered: Self.offered)
        let reply = try await run(["hello": .int32(1), "compression": Self.names(["lz4"])], context: context)
        #expect(reply["compression"] == nil)
        let disabled = try await self.context(offered: [])
        let none = try await run(["hello": .int32(1), "compression": Self.names(["snappy"])], context: disabled)
        #expect(none["compression"] == nil)
    }

    /// The agreed list goes into the session with the first handshake; a later hello changes nothing.
    @Test func theSessionKeepsTheFirstHandshakesCompressors() async throws {
        var context = try await context(offered: Self.offered)
        let dispatcher = CommandDispatcher()
        let first = try CommandRequest(body: ["hello": 1, "compression": Self.names(["zlib", "zstd"])], database: "admin")
        let outcome = await dispatcher.execute(first, context: context)
        context.apply(outcome.sessionChanges)
        #expect(context.session.compressors == ["zlib", "zstd"])
        let second = try CommandRequest(body: ["hello": 1, "compression": Self.names(["snappy"])], database: "admin")
        let again = await dispatcher.execute(second, context: context)
        #expect(again.reply["compression"] == Self.names(["snappy"]))
        context.apply(again.sessionChanges)
        #expect(context.session.compressors == ["zlib", "zstd"])
    }
}
