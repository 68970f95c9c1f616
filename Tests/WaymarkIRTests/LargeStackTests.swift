#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import WaymarkIR

/// `LargeStack.run`: work gets a large stack, and work already on one stays where it is.
@Suite struct LargeStackTests {
    @Test func workRunsOnAThreadWithTheLargeStack() {
        #expect(LargeStack.room() == 0)  // the test's own thread was not started by run
        let room = LargeStack.run { LargeStack.room() }
        #expect(room > LargeStack.enough)
        #expect(room <= LargeStack.size)
    }

    @Test func nestedWorkStaysOnTheOuterThread() {
        let (outer, inner) = LargeStack.run { () -> (pthread_t, pthread_t) in
            (pthread_self(), LargeStack.run { pthread_self() })
        }
        #expect(pthread_equal(outer, inner) != 0)
    }

    @Test func errorsComeBackTyped() {
        struct Failure: Error, Equatable { let code: Int }
        #expect(throws: Failure(code: 7)) {
            try LargeStack.run { () throws(Failure) in throw Failure(code: 7) }
        }
    }
}
