import Synchronization

/// One frame on its way through the `CompressionPool`: the prepared bytes in, the chunk out.
///
/// Buffers are allocated once per session; a job is reused every `CompressionPool.jobCount` frames.
package final class CompressionJob: @unchecked Sendable {
    // @unchecked Sendable: ownership moves with release/acquire hand-offs, never shared. The writer fills
    // `input` and `inputCount`, then publishes the job (CompressionPool.submit, a releasing store); one
    // compressor reads them after an acquiring load, writes `output` and `chunkSize`, and hands the job back
    // with a releasing store of `finishedSequence`, which the writer loads acquiring before reading them.
    package let input: UnsafeMutablePointer<UInt8>
    package let output: UnsafeMutableRawPointer
    package let outputCapacity: Int
    /// Bytes of `input` to compress.
    package var inputCount = 0
    /// Size of the chunk in `output`; 0 when the codec failed.
    package var chunkSize = 0
    /// The pool sequence number of the frame last compressed here, -1 before the first.
    package let finishedSequence = Atomic<Int>(-1)

    package init(inputCapacity: Int, outputCapacity: Int) {
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
