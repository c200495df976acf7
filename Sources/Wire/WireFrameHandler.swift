import NIOCore

/// The channel handler around ``WireFrameAssembler``: reads `ByteBuffer`s, passes ``WireFrame``s on,
/// and keeps what a connection can hold in check:
///
/// - **Byte budget** (optional ``IncomingByteBudget``): once a frame's length is known, its cost
///   (``cost(ofFrame:)``: twice its length, for the parsed copy) is reserved before more of it is read; when they do not fit, the handler swallows
///   `read()` (no more bytes are taken from the socket; TCP pushes back) until the budget grants
///   them. The reservation is held until the frame's reply is written (requests on a connection are
///   answered in order, one reply each), or, for a frame that expects no reply, until the frame is
///   dropped. A frame that arrived whole inside one read is charged without waiting (its bytes are
///   already in memory; at most one read's worth).
/// - **Read deadline** (optional): once a frame has started, no new byte for `frameReadTimeout`
///   fails the connection with ``WireProtocolError/Kind/readTimeout`` (time spent waiting for the
///   budget does not count).
/// - **Idle release**: the buffer of a large frame kept for reuse is dropped after `idleRelease`
///   without a new frame, so an idle connection pins no large buffer.
///
/// After a protocol error it reports the error once and ignores further input (the connection closes).
public final class WireFrameHandler: ChannelDuplexHandler, RemovableChannelHandler {
    /// Raw bytes in.
    public typealias InboundIn = ByteBuffer
    /// Whole frames out.
    public typealias InboundOut = WireFrame
    /// Replies out.
    public typealias OutboundIn = ByteBuffer
    /// Replies out, unchanged.
    public typealias OutboundOut = ByteBuffer

    /// What the handler enforces besides framing.
    public struct Limits: Sendable {
        /// Shared cap on request bytes held; nil for none.
        public var budget: IncomingByteBudget?
        /// Longest wait for the next byte of a started frame; nil for none.
        public var frameReadTimeout: TimeAmount?
        /// How long a kept large buffer survives without a new frame.
        public var idleRelease: TimeAmount

        /// Creates limits; by default none but the idle release (5 s).
        public init(budget: IncomingByteBudget? = nil, frameReadTimeout: TimeAmount? = nil,
                    idleRelease: TimeAmount = .seconds(5)) {
            self.budget = budget
            self.frameReadTimeout = frameReadTimeout
            self.idleRelease = idleRelease
        }
    }

    private var assembler: WireFrameAssembler
    private let limits: Limits
    private var failed = false
    /// Reservations of frames whose replies are not written yet, oldest first.
    private var awaitingReply = CircularBuffer<IncomingByteBudget.Reservation>()
    /// The reservation of the frame being assembled.
    private var partial: IncomingByteBudget.Reservation?
    /// Set while the frame being assembled waits for the budget.
    private var ticket: IncomingByteBudget.Ticket?
    /// Numbers the waits, so a late grant for an abandoned wait is not taken for the current one.
    private var waitGeneration: UInt64 = 0
    /// A `read()` swallowed while waiting for the budget.
    private var readHeld = false
    private var lastProgress = NIODeadline.uptimeNanoseconds(0)
    private var deadlineCheck: Scheduled<Void>?
    private var idleCheck: Scheduled<Void>?

    /// A handler accepting frames of up to `maxMessageLength` bytes, enforcing `limits`.
    public init(maxMessageLength: Int = WireFrameDecoder.defaultMaxMessageLength, limits: Limits = Limits()) {
        assembler = WireFrameAssembler(maxMessageLength: maxMessageLength)
        self.limits = limits
    }

    /// Cuts frames out of the bytes read and fires each one.
    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        lastProgress = context.eventLoop.now
        do {
            try assembler.feed(unwrapInboundIn(data), allocator: context.channel.allocator) { frame in
                context.fireChannelRead(wrapInboundOut(claim(frame)))
            }
        } catch {
            fail(context: context, error: error)
            return
        }
        reserveForPartialFrame(context: context)
        scheduleChecks(context: context)
    }

    /// Swallows the read while the frame being assembled waits for the budget.
    public func read(context: ChannelHandlerContext) {
        if ticket != nil {
            readHeld = true
        } else {
            context.read()
        }
    }

    /// A reply: the oldest request's bytes go back to the budget.
    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        awaitingReply.popFirst()?.release()
        context.write(data, promise: promise)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        releaseEverything()
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        releaseEverything()
    }

    /// What a frame of `length` bytes costs in memory while it is handled: its own bytes, then the
    /// parsed documents (a copy of the same size) while the frame's buffer is still kept for reuse.
    /// Measured: one 48 MB insert raises the daemon's peak RSS by ~100 MiB.
    public static func cost(ofFrame length: Int) -> Int {
        length.multipliedReportingOverflow(by: 2).partialValue
    }

    /// Attaches the budget to a complete frame: the reservation made while it arrived, or a charge
    /// for bytes that came whole. A frame expecting a reply leaves its reservation here until then.
    private func claim(_ frame: WireFrame) -> WireFrame {
        guard let budget = limits.budget else { return frame }
        let length = MessageHeader.size &+ frame.body.readableBytes
        let reservation: IncomingByteBudget.Reservation
        if let partial, partial.bytes == Self.cost(ofFrame: length) {
            reservation = partial
            self.partial = nil
        } else {
            // Completed inside this read while still queued (or its length was unknown): the bytes
            // are here; stop waiting and count them.
            if let ticket {
                self.ticket = nil
                budget.cancel(ticket)
            }
            partial?.release()
            partial = nil
            reservation = budget.charge(Self.cost(ofFrame: length))
        }
        var frame = frame
        if frame.expectsNoReply {
            frame.reservation = reservation
        } else {
            awaitingReply.append(reservation)
        }
        return frame
    }

    /// Reserves the bytes of a frame whose length just became known; waits (swallowing reads) if
    /// they do not fit.
    private func reserveForPartialFrame(context: ChannelHandlerContext) {
        guard let budget = limits.budget, partial == nil, ticket == nil,
              let length = assembler.partialFrameLength else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        waitGeneration &+= 1
        let generation = waitGeneration
        switch budget.request(Self.cost(ofFrame: length), onGrant: { reservation in
            eventLoop.execute {
                let (handler, context) = loopBound.value
                handler.granted(reservation, generation: generation, context: context)
            }
        }) {
        case .granted(let reservation):
            partial = reservation
        case .queued(let ticket):
            self.ticket = ticket
            assembler.shrinkForWaiting(allocator: context.channel.allocator)
        }
    }

    private func granted(_ reservation: IncomingByteBudget.Reservation, generation: UInt64, context: ChannelHandlerContext) {
        // A grant that raced with the frame completing (its wait was cancelled) is given back.
        guard ticket != nil, generation == waitGeneration, !failed, context.channel.isActive else {
            reservation.release()
            return
        }
        ticket = nil
        partial = reservation
        lastProgress = context.eventLoop.now
        if readHeld {
            readHeld = false
            context.read()
        }
    }

    /// Arms the read deadline while a frame is in progress, and the idle release while a large
    /// buffer is kept.
    private func scheduleChecks(context: ChannelHandlerContext) {
        if let timeout = limits.frameReadTimeout, assembler.hasPartialFrame, deadlineCheck == nil {
            deadlineCheck = schedule(in: timeout, context: context) { $0.checkDeadline(context: context) }
        }
        if assembler.spareCapacity > 0 && !assembler.hasPartialFrame {
            idleCheck?.cancel()
            idleCheck = schedule(in: limits.idleRelease, context: context) { handler in
                handler.idleCheck = nil
                if !handler.assembler.hasPartialFrame { handler.assembler.releaseSpare() }
            }
        }
    }

    private func schedule(
        in delay: TimeAmount, context: ChannelHandlerContext, _ body: @escaping (WireFrameHandler) -> Void
    ) -> Scheduled<Void> {
        context.eventLoop.assumeIsolated().scheduleTask(in: delay) { body(self) }
    }

    private func checkDeadline(context: ChannelHandlerContext) {
        deadlineCheck = nil
        guard !failed, assembler.hasPartialFrame, let timeout = limits.frameReadTimeout else { return }
        let quiet = context.eventLoop.now - lastProgress
        if ticket != nil || quiet < timeout {
            // Waiting for the budget is not the peer's fault; otherwise check again when due.
            let delay = ticket != nil ? timeout : timeout - quiet
            deadlineCheck = schedule(in: delay, context: context) { $0.checkDeadline(context: context) }
            return
        }
        let declared = assembler.partialFrameLength.map { "a \($0)-byte message" } ?? "a message"
        let seconds = timeout.nanoseconds / 1_000_000_000
        fail(context: context, error: WireProtocolError(
            .readTimeout, "no bytes of \(declared) for \(seconds) s after it started; giving up on it"))
    }

    private func fail(context: ChannelHandlerContext, error: any Error) {
        failed = true
        releaseEverything()
        context.fireErrorCaught(error)
    }

    private func releaseEverything() {
        while let reservation = awaitingReply.popFirst() { reservation.release() }
        partial?.release()
        partial = nil
        if let ticket, let budget = limits.budget {
            budget.cancel(ticket)
        }
        ticket = nil
        deadlineCheck?.cancel()
        deadlineCheck = nil
        idleCheck?.cancel()
        idleCheck = nil
        assembler.releaseSpare()
    }
}
