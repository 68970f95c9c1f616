import Foundation
import Testing
@testable import WaymarkRunner

/// Instance ids are version 7 UUIDs: unique, lowercase, and ordered by the millisecond they
/// were made in (what keeps the primary-key indexes' inserts at their right edge).
@Suite struct InstanceIDTests {
    @Test func idsAreVersion7AndUnique() throws {
        let ids = (0..<10_000).map { _ in InstanceID.make() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(100) {
            let uuid = try #require(UUID(uuidString: id))
            #expect(id == id.lowercased() && id.count == 36)
            #expect(uuid.uuid.6 >> 4 == 7)
            #expect(uuid.uuid.8 >> 6 == 0b10)
        }
    }

    @Test func idsSortByTheMillisecondTheyWereMadeIn() {
        // Two milliseconds apart: a date's seconds are a Double, so one apart could round down
        // into the same millisecond.
        let ids = (0..<50).map { InstanceID.make(now: Date(timeIntervalSince1970: Double(1_780_000_000_000 + 2 * $0) / 1000)) }
        #expect(ids == ids.sorted())
        let millisecond = Int(InstanceID.make(now: Date(timeIntervalSince1970: 1_780_000_000)).prefix(13).replacingOccurrences(of: "-", with: ""), radix: 16)
        #expect(millisecond == 1_780_000_000_000)
    }
}
