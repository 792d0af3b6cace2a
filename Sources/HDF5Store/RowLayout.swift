import CHDF5Shim
import RecorderCore

/// The packed byte layout of one row of a table dataset: a compound of numbers and fixed strings,
/// or a plain number (optionally repeated, for `(N, k)` datasets).
struct RowLayout {
    /// The element types a column can have.
    enum Kind: Equatable {
        case int64, int32, uint16, uint32, uint64, uint8, float64
        case string(Int)

        var size: Int {
            switch self {
            case .int64, .uint64, .float64: return 8
            case .int32, .uint32: return 4
            case .uint16: return 2
            case .uint8: return 1
            case .string(let n): return n
            }
        }

        /// A new HDF5 type for this kind, little-endian in the file (caller closes).
        func makeType() -> hid_t {
            switch self {
            case .int64: return H5Tcopy(CHDF5Shim_H5T_STD_I64LE())
            case .int32: return H5Tcopy(CHDF5Shim_H5T_STD_I32LE())
            case .uint16: return H5Tcopy(CHDF5Shim_H5T_STD_U16LE())
            case .uint32: return H5Tcopy(CHDF5Shim_H5T_STD_U32LE())
            case .uint64: return H5Tcopy(CHDF5Shim_H5T_STD_U64LE())
            case .uint8: return H5Tcopy(CHDF5Shim_H5T_STD_U8LE())
            case .float64: return H5Tcopy(CHDF5Shim_H5T_IEEE_F64LE())
            case .string(let n): return HDF5.fixedString(n)
            }
        }

        init(_ kind: StateField.Kind) {
            switch kind {
            case .float64: self = .float64
            case .int64: self = .int64
            case .int32: self = .int32
            case .uint8: self = .uint8
            }
        }
    }

    struct Column {
        var name: String
        var kind: Kind
        var offset: Int
    }

    /// Named columns of a compound, or one unnamed column for a plain number dataset.
    let columns: [Column]
    /// True for a compound row; false for a plain numeric dataset of `width` elements per row.
    let isCompound: Bool
    /// Elements per row of a plain dataset ((N) is 1, (N, 2) is 2).
    let width: Int
    let rowSize: Int

    /// A compound with `fields` packed in order (no padding: the file layout equals the memory layout).
    init(compound fields: [(String, Kind)]) {
        var offset = 0
        var columns: [Column] = []
        for (name, kind) in fields {
            columns.append(Column(name: name, kind: kind, offset: offset))
            offset += kind.size
        }
        self.columns = columns
        self.isCompound = true
        self.width = 1
        self.rowSize = offset
    }

    /// A plain numeric dataset with `width` elements per row.
    init(plain kind: Kind, width: Int = 1) {
        columns = [Column(name: "", kind: kind, offset: 0)]
        isCompound = false
        self.width = width
        rowSize = kind.size * width
    }

    /// The HDF5 type of one element (the compound, or the number); the file and memory both use it.
    func makeType() -> hid_t {
        guard isCompound else { return columns[0].kind.makeType() }
        let type = H5Tcreate(H5T_COMPOUND, rowSize)
        for column in columns {
            let member = column.kind.makeType()
            H5Tinsert(type, column.name, column.offset, member)
            H5Tclose(member)
        }
        return type
    }
}

/// Writes the fields of one packed row.
struct RowWriter {
    let base: UnsafeMutableRawPointer
    let layout: RowLayout

    @inline(__always)
    func set<T: BitwiseCopyable>(_ column: Int, _ value: T) {
        (base + layout.columns[column].offset).storeBytes(of: value, as: T.self)
    }

    /// Stores `value` as an element of a plain row (`index` < width).
    @inline(__always)
    func setElement<T: BitwiseCopyable>(_ index: Int, _ value: T) {
        (base + index * MemoryLayout<T>.size).storeBytes(of: value, as: T.self)
    }

    /// Stores UTF-8 `text`, cut to the column's size on a character boundary, NUL-padded.
    func set(_ column: Int, string text: String) {
        guard case .string(let size) = layout.columns[column].kind else { return }
        let destination = base + layout.columns[column].offset
        destination.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        var utf8 = Array(text.utf8)
        if utf8.count > size {
            var end = size
            while end > 0 && (utf8[end] & 0xC0) == 0x80 { end -= 1 } // never split a UTF-8 sequence
            utf8 = Array(utf8[..<end])
        }
        utf8.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    /// Stores a number held as Double into a numeric column of any kind (state samples).
    func set(_ column: Int, number: Double) {
        switch layout.columns[column].kind {
        case .float64: set(column, number)
        case .int64: set(column, Int64(exactly: number.rounded()) ?? (number.isNaN ? 0 : (number < 0 ? .min : .max)))
        case .int32: set(column, Int32(clamping: Int64(exactly: number.rounded()) ?? 0))
        case .uint8: set(column, UInt8(clamping: Int64(exactly: number.rounded()) ?? 0))
        case .uint16: set(column, UInt16(clamping: Int64(exactly: number.rounded()) ?? 0))
        case .uint32: set(column, UInt32(clamping: Int64(exactly: number.rounded()) ?? 0))
        case .uint64: set(column, UInt64(clamping: Int64(exactly: number.rounded()) ?? 0))
        case .string: break
        }
    }
}
