import Dispatch
@testable import NetplugServer
import Synchronization
import XCTest

/// The threads that may block: a blocked job never holds up another, an answer runs once its
/// job is over, and a task that prefers the blocking executor runs there. Every wait is on a
/// gate the test opens, never on the clock (the timeouts only stop a broken pool from hanging
/// the suite).
final class WorkerPoolTests: XCTestCase {
    func testBlockedJobsDoNotHoldUpOthers() {
        let started = DispatchSemaphore(value: 0)
        let gate = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let jobs = 6
        for _ in 0..<jobs {
            WorkerPool.shared.submit {
                started.signal()
                gate.wait()  // blocks its thread, as a hook's wait does
                finished.signal()
            }
        }
        // Every job starts while all the others are still blocked: the pool grew to six threads.
        for _ in 0..<jobs { XCTAssertEqual(started.wait(timeout: .now() + 30), .success) }
        for _ in 0..<jobs { gate.signal() }
        for _ in 0..<jobs { XCTAssertEqual(finished.wait(timeout: .now() + 30), .success) }
    }

    func testTheAnsweringPartRunsAfterTheJobOnTheSameThread() {
        let order = Mutex<[String]>([])
        let done = DispatchSemaphore(value: 0)
        WorkerPool.shared.submitAnswering {
            let worker = pthread_self()
            WorkerPool.afterThisJob {
                order.withLock { $0.append(pthread_equal(worker, pthread_self()) != 0 ? "deferred, same thread" : "deferred, other thread") }
                done.signal()
            }
            order.withLock { $0.append("job") }
            return { order.withLock { $0.append("answer") } }
        }
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(order.withLock { $0 }, ["job", "answer", "deferred, same thread"])
    }

    func testAfterThisJobOffAWorkerRunsAtOnce() {
        var ran = false
        WorkerPool.afterThisJob { ran = true }
        XCTAssertTrue(ran)
    }

    func testATaskPreferringTheBlockingExecutorRunsOnAWorker() async {
        let onWorker = await withTaskExecutorPreference(BlockingExecutor.shared) { () -> Bool in
            // On a worker, an action is deferred until the job ends; anywhere else it runs at once.
            var ranAtOnce = false
            WorkerPool.afterThisJob { ranAtOnce = true }
            return !ranAtOnce
        }
        XCTAssertTrue(onWorker)
    }

    func testTimedWaitsEndOnTheMonotonicClockAndSignalsWakeWaiters() {
        let mutex = ParkingMutex()
        let condition = ParkingCondition()
        mutex.lock()
        XCTAssertFalse(condition.wait(mutex, upTo: 0), "a wait of no time runs out at once")
        mutex.unlock()

        let ready = DispatchSemaphore(value: 0)
        let woken = DispatchSemaphore(value: 0)
        let flag = Mutex(false)
        Thread.detachNewThread {
            mutex.lock()
            ready.signal()
            while !flag.withLock({ $0 }) { condition.wait(mutex, upTo: 600) }
            mutex.unlock()
            woken.signal()
        }
        XCTAssertEqual(ready.wait(timeout: .now() + 30), .success)
        mutex.lock()
        flag.withLock { $0 = true }
        condition.signal()
        mutex.unlock()
        XCTAssertEqual(woken.wait(timeout: .now() + 30), .success)
        let soon = ParkingCondition.monotonic(in: 1)
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        XCTAssertTrue(soon.tv_sec >= now.tv_sec && soon.tv_sec <= now.tv_sec + 2)
    }
}
