import CHDF5Shim
import RecorderCore

/// A chunked dataset with an unlimited first dimension that grows by batches of rows.
///
/// Rows are packed into a preallocated buffer; `writePending()` extends the dataset once and
/// writes the whole batch with one `H5Dwrite`, so thousands of rows per second cost a few calls.
final class AppendableTable {
    let name: String
    let layout: RowLayout
    let dataset: hid_t
    private let type: hid_t
    private let buffer: UnsafeMutableRawPointer
    /// Rows the buffer holds before it must be written.
    let capacity: Int
    private(set) var pending = 0
    /// Rows in the file (written by `writePending`).
    private(set) var rowsWritten: Int64 = 0

    /// Creates `path` under `location` with chunks of `chunkRows` rows.
    init(location: hid_t, path: String, layout: RowLayout, chunkRows: Int, bufferRows: Int) throws(RecorderErrorBox) {
        HDF5.preconditionNotSWMRWriting(location, path)
        self.name = path
        self.layout = layout
        self.capacity = bufferRows
        let type = layout.makeType()
        self.type = type
        let rank: Int32 = layout.width > 1 ? 2 : 1
        var dims: [hsize_t] = layout.width > 1 ? [0, hsize_t(layout.width)] : [0]
        var maxDims: [hsize_t] = layout.width > 1 ? [CHDF5Shim_H5S_UNLIMITED(), hsize_t(layout.width)] : [CHDF5Shim_H5S_UNLIMITED()]
        var chunk: [hsize_t] = layout.width > 1 ? [hsize_t(chunkRows), hsize_t(layout.width)] : [hsize_t(chunkRows)]
        let space = H5Screate_simple(rank, &dims, &maxDims)
        defer { H5Sclose(space) }
        let dcpl = H5Pcreate(CHDF5Shim_H5P_DATASET_CREATE())
        defer { H5Pclose(dcpl) }
        H5Pset_chunk(dcpl, rank, &chunk)
        let lcpl = H5Pcreate(CHDF5Shim_H5P_LINK_CREATE())
        defer { H5Pclose(lcpl) }
        H5Pset_create_intermediate_group(lcpl, 1)
        do {
            dataset = try HDF5.check(H5Dcreate2(location, path, type, space, lcpl, dcpl, CHDF5Shim_H5P_DEFAULT()),
                                     "creating \(path)")
        } catch {
            H5Tclose(type)
            throw error
        }
        buffer = .allocate(byteCount: max(1, bufferRows * layout.rowSize), alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: max(1, bufferRows * layout.rowSize))
    }

    deinit {
        buffer.deallocate()
    }

    /// Rows in the file plus rows waiting in the buffer.
    var totalRows: Int64 { rowsWritten + Int64(pending) }

    /// Packs one row with `fill`; writes the batch first when the buffer is full.
    @inline(__always)
    func append(_ fill: (RowWriter) -> Void) throws(RecorderErrorBox) {
        if pending == capacity { try writePending() }
        fill(RowWriter(base: buffer + pending * layout.rowSize, layout: layout))
        pending += 1
    }

    /// Extends the dataset by the buffered rows and writes them.
    func writePending() throws(RecorderErrorBox) {
        guard pending > 0 else { return }
        let newCount = hsize_t(rowsWritten) + hsize_t(pending)
        var size: [hsize_t] = layout.width > 1 ? [newCount, hsize_t(layout.width)] : [newCount]
        try HDF5.check(H5Dset_extent(dataset, &size), "extending \(name)")
        let fileSpace = H5Dget_space(dataset)
        defer { H5Sclose(fileSpace) }
        var start: [hsize_t] = layout.width > 1 ? [hsize_t(rowsWritten), 0] : [hsize_t(rowsWritten)]
        var count: [hsize_t] = layout.width > 1 ? [hsize_t(pending), hsize_t(layout.width)] : [hsize_t(pending)]
        H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &start, nil, &count, nil)
        let memorySpace = H5Screate_simple(Int32(count.count), &count, nil)
        defer { H5Sclose(memorySpace) }
        try HDF5.check(H5Dwrite(dataset, type, memorySpace, fileSpace, CHDF5Shim_H5P_DEFAULT(), buffer), "writing \(name)")
        rowsWritten = Int64(newCount)
        pending = 0
    }

    /// Drops buffered rows (after a write error, when nothing more may be written).
    func discardPending() { pending = 0 }

    func flush() throws(RecorderErrorBox) {
        try HDF5.check(H5Dflush(dataset), "flushing \(name)")
    }

    func close() {
        H5Dclose(dataset)
        H5Tclose(type)
    }
}
