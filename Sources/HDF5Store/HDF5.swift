import CHDF5Shim
import RecorderCore
#if canImport(Glibc)
import Glibc
#endif

/// Thin throwing wrappers over the HDF5 C API; every call stays on the writer's (or a tool's) thread.
enum HDF5 {
    /// Registers our Zstandard and LZ4 filters, once per process.
    static let initialized: Bool = CHDF5Shim_H5Z_register_codecs() >= 0

    /// Registers the filters and silences HDF5's error printing on the calling thread (the error
    /// stack is per thread in a thread-safe libhdf5); our own messages go to the log instead.
    static func prepareThread() {
        _ = initialized
        CHDF5Shim_H5_silence_errors()
    }

    /// Throws `RecorderError.storage` naming `what` when an HDF5 id or status is negative.
    @discardableResult
    static func check<T: BinaryInteger>(_ value: T, _ what: @autoclosure () -> String) throws(RecorderErrorBox) -> T {
        if value < 0 {
            let saved = errno
            throw RecorderErrorBox(message: "HDF5: \(what()) failed" + (saved != 0 ? " (\(errnoText(saved)))" : ""), errno: saved)
        }
        return value
    }

    /// A property list with the latest file format, required for SWMR.
    static func latestFormatFileAccess() throws(RecorderErrorBox) -> hid_t {
        let fapl = try check(H5Pcreate(CHDF5Shim_H5P_FILE_ACCESS()), "H5Pcreate(file access)")
        try check(H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110), "H5Pset_libver_bounds")
        return fapl
    }

    /// Metadata reads retried after a checksum failure: SWMR readers retry torn reads, but a damaged
    /// file fails every time, and HDF5's default (100 with growing sleeps) stalls for minutes.
    static let metadataReadAttempts: UInt32 = 4

    /// Opens a file handed to us (possibly being written, possibly hostile) read-only through its
    /// descriptor: as a SWMR reader first, so a live file reads consistently, then plainly; -1 when
    /// neither works or the library opened another inode.
    static func openForReading(_ pinned: PinnedFile) -> hid_t {
        var file: hid_t = -1
        if let fapl = try? latestFormatFileAccess() {
            H5Pset_metadata_read_attempts(fapl, metadataReadAttempts)
            file = H5Fopen(pinned.hdf5Path, CHDF5Shim_H5F_ACC_RDONLY() | CHDF5Shim_H5F_ACC_SWMR_READ(), fapl)
            H5Pclose(fapl)
        }
        if file < 0 { file = H5Fopen(pinned.hdf5Path, CHDF5Shim_H5F_ACC_RDONLY(), CHDF5Shim_H5P_DEFAULT()) }
        guard file >= 0 else { return -1 }
        guard (try? pinned.checkSameFile(file)) != nil else {
            H5Fclose(file)
            return -1
        }
        return file
    }

    /// A variable-length UTF-8 string type (caller closes).
    static func variableString() -> hid_t {
        let type = H5Tcopy(CHDF5Shim_H5T_C_S1())
        H5Tset_size(type, CHDF5Shim_H5T_VARIABLE())
        H5Tset_cset(type, H5T_CSET_UTF8)
        return type
    }

    /// A fixed-length NUL-padded UTF-8 string type of `size` bytes (caller closes).
    static func fixedString(_ size: Int) -> hid_t {
        let type = H5Tcopy(CHDF5Shim_H5T_C_S1())
        H5Tset_size(type, size)
        H5Tset_strpad(type, H5T_STR_NULLPAD)
        H5Tset_cset(type, H5T_CSET_UTF8)
        return type
    }

    /// Creates (or overwrites) a variable-length string attribute on `object`.
    static func writeAttribute(_ object: hid_t, _ name: String, string value: String) throws(RecorderErrorBox) {
        let type = variableString()
        defer { H5Tclose(type) }
        let attribute = try openOrCreateAttribute(object, name, type: type)
        defer { H5Aclose(attribute) }
        let status = value.withCString { pointer -> herr_t in
            var element: UnsafePointer<CChar>? = pointer
            return H5Awrite(attribute, type, &element)
        }
        try check(status, "writing attribute \(name)")
    }

    /// Creates (or overwrites) an int64 scalar attribute on `object`.
    static func writeAttribute(_ object: hid_t, _ name: String, int value: Int64) throws(RecorderErrorBox) {
        let attribute = try openOrCreateAttribute(object, name, type: CHDF5Shim_H5T_STD_I64LE())
        defer { H5Aclose(attribute) }
        var v = value
        try check(H5Awrite(attribute, CHDF5Shim_H5T_NATIVE_INT64(), &v), "writing attribute \(name)")
    }

    /// Traps when `location`'s file is in SWMR-write mode: SWMR forbids creating objects and
    /// attributes, so the layout must be complete before `H5Fstart_swmr_write`.
    static func preconditionNotSWMRWriting(_ location: hid_t, _ what: @autoclosure () -> String) {
        let file = H5Iget_file_id(location)
        guard file >= 0 else { return }
        var intent: UInt32 = 0
        H5Fget_intent(file, &intent)
        H5Fclose(file)
        precondition(intent & CHDF5Shim_H5F_ACC_SWMR_WRITE() == 0, "\(what()) created after SWMR writing started")
    }

    private static func openOrCreateAttribute(_ object: hid_t, _ name: String, type: hid_t) throws(RecorderErrorBox) -> hid_t {
        if H5Aexists(object, name) > 0 {
            // Same name, maybe another type (a string that was an int) or shape (a crafted array, which
            // H5Awrite would read past our one value for): recreate unless it is exactly one such value.
            let existing = H5Aopen(object, name, CHDF5Shim_H5P_DEFAULT())
            let existingType = H5Aget_type(existing)
            let existingSpace = H5Aget_space(existing)
            let same = existing >= 0 && H5Tequal(existingType, type) > 0
                && H5Sget_simple_extent_type(existingSpace) == H5S_SCALAR
            H5Sclose(existingSpace)
            H5Tclose(existingType)
            if same { return try check(existing, "opening attribute \(name)") }
            H5Aclose(existing)
            try check(H5Adelete(object, name), "replacing attribute \(name)")
        }
        preconditionNotSWMRWriting(object, "attribute \(name)")
        let space = H5Screate(H5S_SCALAR)
        defer { H5Sclose(space) }
        return try check(H5Acreate2(object, name, type, space, CHDF5Shim_H5P_DEFAULT(), CHDF5Shim_H5P_DEFAULT()),
                         "creating attribute \(name)")
    }

    /// Longest attribute text read back; longer (crafted) strings read as absent.
    static let maximumAttributeBytes = 1 << 20

    /// Reads a string or integer attribute as text; nil when absent or not one value of a known type.
    ///
    /// Files come from outside: the dataspace must hold exactly one element and the type must be a
    /// plain integer, float or string of bounded size before anything is read into our buffers.
    static func readAttributeText(_ object: hid_t, _ name: String) -> String? {
        guard H5Aexists(object, name) > 0 else { return nil }
        let attribute = H5Aopen(object, name, CHDF5Shim_H5P_DEFAULT())
        guard attribute >= 0 else { return nil }
        defer { H5Aclose(attribute) }
        let space = H5Aget_space(attribute)
        guard space >= 0 else { return nil }
        let points = H5Sget_simple_extent_npoints(space)
        let spaceClass = H5Sget_simple_extent_type(space)
        H5Sclose(space)
        guard points == 1, spaceClass == H5S_SCALAR || spaceClass == H5S_SIMPLE else { return nil }
        let type = H5Aget_type(attribute)
        guard type >= 0 else { return nil }
        defer { H5Tclose(type) }
        let size = H5Tget_size(type)
        switch H5Tget_class(type) {
        case H5T_INTEGER:
            guard size >= 1, size <= 8 else { return nil }
            var value: Int64 = 0
            guard H5Aread(attribute, CHDF5Shim_H5T_NATIVE_INT64(), &value) >= 0 else { return nil }
            return String(value)
        case H5T_FLOAT:
            guard size == 4 || size == 8 else { return nil }
            var value: Double = 0
            guard H5Aread(attribute, CHDF5Shim_H5T_NATIVE_DOUBLE(), &value) >= 0 else { return nil }
            return String(value)
        case H5T_STRING:
            if H5Tis_variable_str(type) > 0 {
                let memory = variableString()
                defer { H5Tclose(memory) }
                var pointer: UnsafeMutablePointer<CChar>? = nil
                guard H5Aread(attribute, memory, &pointer) >= 0, let pointer else { return nil }
                defer { H5free_memory(pointer) }
                let length = strnlen(pointer, maximumAttributeBytes + 1)
                guard length <= maximumAttributeBytes else { return nil }
                return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
            }
            guard size >= 1, size <= maximumAttributeBytes else { return nil }
            // Read through a memory type of exactly the buffer's size, never the file's own type.
            let memory = fixedString(size)
            defer { H5Tclose(memory) }
            var bytes = [UInt8](repeating: 0, count: size + 1)
            guard H5Aread(attribute, memory, &bytes) >= 0 else { return nil }
            return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        default:
            return nil
        }
    }

    /// The names of every attribute of `object`, in creation order when tracked, else by name.
    static func attributeNames(_ object: hid_t) -> [String] {
        var info = H5O_info_t()
        guard H5Oget_info2(object, &info, UInt32(H5O_INFO_NUM_ATTRS)) >= 0 else { return [] }
        var names: [String] = []
        // A crafted header may claim any count: names beyond a bound are not listed.
        for index in 0..<min(info.num_attrs, 4096) {
            var buffer = [CChar](repeating: 0, count: 1024)
            let length = H5Aget_name_by_idx(object, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, 1024, CHDF5Shim_H5P_DEFAULT())
            if length >= 0 { names.append(String(cBuffer: buffer)) }
        }
        return names
    }

    /// The current extent of a dataset.
    static func dimensions(_ dataset: hid_t) -> [hsize_t] {
        let space = H5Dget_space(dataset)
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank > 0 else { return [] }
        var dims = [hsize_t](repeating: 0, count: rank)
        H5Sget_simple_extent_dims(space, &dims, nil)
        return dims
    }

    /// Whether `path` names a link under `location` (every parent must exist).
    static func exists(_ location: hid_t, _ path: String) -> Bool {
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += (prefix.isEmpty && !path.hasPrefix("/") ? "" : "/") + part
            if H5Lexists(location, prefix, CHDF5Shim_H5P_DEFAULT()) <= 0 { return false }
        }
        return true
    }
}

/// An HDF5 failure with the errno seen at the time (ENOSPC tells a full disk from other errors).
struct RecorderErrorBox: Error {
    var message: String
    var errno: Int32

    var isDiskFull: Bool { errno == ENOSPC || errno == EDQUOT || errno == EFBIG }
    var recorderError: RecorderError { .storage(message) }
}

extension HDF5 {
    /// Creates (or overwrites) a float64 scalar attribute on `object`.
    static func writeAttribute(_ object: hid_t, _ name: String, double value: Double) throws(RecorderErrorBox) {
        preconditionNotSWMRWriting(object, "attribute \(name)")
        if H5Aexists(object, name) > 0 { H5Adelete(object, name) }
        let space = H5Screate(H5S_SCALAR)
        defer { H5Sclose(space) }
        let attribute = try check(H5Acreate2(object, name, CHDF5Shim_H5T_IEEE_F64LE(), space, CHDF5Shim_H5P_DEFAULT(), CHDF5Shim_H5P_DEFAULT()),
                                  "creating attribute \(name)")
        defer { H5Aclose(attribute) }
        var v = value
        try check(H5Awrite(attribute, CHDF5Shim_H5T_NATIVE_DOUBLE(), &v), "writing attribute \(name)")
    }
}

extension HDF5 {
    /// Rows of a dataset (its first dimension), 0 when it has none or the extent does not fit an Int64.
    static func rowCount(_ dataset: hid_t) -> Int64 {
        guard let first = dimensions(dataset).first, first <= hsize_t(Int64.max) else { return 0 }
        return Int64(first)
    }

    /// Elements of a dataset that may be read whole into memory: nil when the extent's product
    /// overflows or `elementBytes` per element would exceed `limitBytes` (a crafted extent must not
    /// make us allocate more than the file could hold).
    static func readableElementCount(_ dataset: hid_t, elementBytes: Int, limitBytes: Int64) -> Int? {
        let dims = dimensions(dataset)
        guard !dims.isEmpty else { return 0 }
        var count = 1
        for dim in dims {
            guard dim <= hsize_t(Int.max) else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(dim))
            guard !overflow else { return nil }
            count = product
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: elementBytes)
        guard !overflow, Int64(bytes) <= limitBytes else { return nil }
        return count
    }

    /// The most bytes a whole-dataset read of a file of `fileBytes` may allocate: rows extended but not
    /// yet written read as fill values, so allow a margin over what is on disk.
    static func readLimit(fileBytes: Int64) -> Int64 { fileBytes + (64 << 20) }
}
