import Synchronization

/// One frame on its way through the `CompressionPool`: the prepared bytes in, the chunk out.
///
/// Buffers are allocated once per session; a job is reused every `CompressionPool.jobCount` frames.
package final class CompressionJob: @unchecked Sendable {
    // @unchecked Sendable: ownership moves with release/acquire hand-offs, never shared. The writer fills
    // `input`'s bytes, then publishes the job (CompressionPool.submit, a releasing store); a compressor
    // loads the `input` pointer after an acquiring load, claims the frame (`claimedSequence`, acquiring and
    // releasing), writes `output`, `chunkSize` and `effort`, and hands the job back with a releasing store
    // of `finishedSequence`, which the writer loads acquiring before reading them.
    // The writer replaces the `input` pointer only after its own claim failed, i.e. after the compressor
    // that claimed the frame had loaded it (`CompressionPool.takeOver`); a compressor reads the bytes only
    // after its own claim succeeded.
    /// The bytes to compress; the writer may swap in a spare buffer while a compressor still reads this one.
    package var input: UnsafeMutablePointer<UInt8>
    package let output: UnsafeMutableRawPointer
    package let outputCapacity: Int
    /// Bytes of `input` to compress: one RGB frame, the same for every frame of the session.
    package let inputCount: Int
    /// Size of the chunk (`chunk`); 0 when the codec failed.
    package var chunkSize = 0
    /// How the chunk was made; `unfiltered` leaves it in `input` (the bytes as they are), the others in `output`.
    package var effort = CompressionEffort.best
    /// The finished chunk's bytes.
    package var chunk: UnsafeRawPointer { effort == .unfiltered ? UnsafeRawPointer(input) : UnsafeRawPointer(output) }
    /// The pool sequence number of the frame last compressed here, -1 before the first.
    package let finishedSequence = Atomic<Int>(-1)
    /// The sequence number last claimed, by a compressor about to compress it or by the writer taking it
    /// over before any compressor did; -1 before the first. Whoever moves it from the job's previous
    /// frame to this one owns the frame.
    package let claimedSequence = Atomic<Int>(-1)

    package init(inputCapacity: Int, outputCapacity: Int) {
        inputCount = inputCapacity
        // The SIMD kernels store 16 bytes at a time past the last pixel.
        input = .allocate(capacity: inputCapacity + 64)
        input.initialize(repeating: 0, count: inputCapacity + 64)
        self.outputCapacity = outputCapacity
        // Left untouched: a chunk is rarely over a sixth of its bound (~1 MB of 6.2 MB for a whole 1080p
        // game frame), so only what the largest chunk so far needed becomes resident (at most the bound).
        output = .allocate(byteCount: outputCapacity, alignment: 64)
    }

    deinit {
        input.deallocate()
        output.deallocate()
    }
}
