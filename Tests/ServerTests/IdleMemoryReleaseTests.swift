import Commands
import Testing

@testable import Server

/// The trim runs once per idle period: never on a tick that saw requests, never twice in a row.
@Suite struct IdleMemoryReleaseTests {
    @Test func trimsOncePerIdlePeriod() {
        let counters = ServerCounters()
        let release = IdleMemoryRelease(counters: counters)
        #expect(release.tick() == false)  // first look: no baseline yet
        #expect(release.tick() == true)  // nothing happened since: idle, trim
        #expect(release.tick() == false)  // still idle, already trimmed
        counters.received(bytes: 100)
        #expect(release.tick() == false)  // activity since the last tick
        #expect(release.tick() == true)  // idle again
    }
}
