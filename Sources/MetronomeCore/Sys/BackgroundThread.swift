// A named pthread running one closure, for the threads beside the loop (progress line, web view).
import Glibc

/// `pthread_create` with a Swift closure, and `join` to wait for it. For long-lived helpers started
/// once at setup; the load itself runs on the calling thread's loop.
public final class BackgroundThread: @unchecked Sendable {
    private let thread: pthread_t
    private var joined = false

    /// Starts `body` on a new thread named `name` (as `top -H` shows it; the kernel keeps 15 bytes).
    /// A thread that cannot be made (the process is out of threads or memory) ends the process
    /// with the reason: these helpers start before the load, where there is nothing to salvage.
    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        let start = Unmanaged.passRetained(ThreadStart(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { context in
            let start = Unmanaged<ThreadStart>.fromOpaque(context!).takeRetainedValue()
            nameCurrentThread(start.name)
            start.body()
            return nil
        }, start)
        guard status == 0 else {
            Unmanaged<ThreadStart>.fromOpaque(start).release()
            fatalError("\(SystemError("pthread_create", errno: status)) (starting thread \(name))")
        }
        self.thread = thread
    }

    /// Waits for the closure to return; later calls return at once. Call from one thread only.
    public func join() {
        guard !joined else { return }
        joined = true
        pthread_join(thread, nil)
    }
}

/// What the new thread needs, passed through pthread_create's one pointer.
private final class ThreadStart {
    let name: String
    let body: @Sendable () -> Void

    init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }
}

/// Names the calling thread as `top -H` and /proc/<pid>/task/<tid>/comm show it (Glibc's Swift
/// overlay has no pthread_setname_np).
public func nameCurrentThread(_ name: String) {
    let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return }
    var text = name
    text.withUTF8 { _ = writeSome(fd, $0.baseAddress!, $0.count) }
    closeDescriptor(fd)
}
