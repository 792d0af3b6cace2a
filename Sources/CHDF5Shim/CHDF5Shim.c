#include "CHDF5Shim.h"
#include "CChunkCodec.h"
#include <stdbool.h>
#include <stdint.h>

hid_t CHDF5Shim_H5P_DEFAULT(void) { return H5P_DEFAULT; }
hid_t CHDF5Shim_H5P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
hid_t CHDF5Shim_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
hid_t CHDF5Shim_H5P_DATASET_ACCESS(void) { return H5P_DATASET_ACCESS; }
hid_t CHDF5Shim_H5P_LINK_CREATE(void) { return H5P_LINK_CREATE; }
hid_t CHDF5Shim_H5S_ALL(void) { return H5S_ALL; }
hsize_t CHDF5Shim_H5S_UNLIMITED(void) { return H5S_UNLIMITED; }
hid_t CHDF5Shim_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
hid_t CHDF5Shim_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
hid_t CHDF5Shim_H5T_C_S1(void) { return H5T_C_S1; }
hid_t CHDF5Shim_H5T_STD_U8LE(void) { return H5T_STD_U8LE; }
hid_t CHDF5Shim_H5T_STD_U16LE(void) { return H5T_STD_U16LE; }
hid_t CHDF5Shim_H5T_STD_U32LE(void) { return H5T_STD_U32LE; }
hid_t CHDF5Shim_H5T_STD_I32LE(void) { return H5T_STD_I32LE; }
hid_t CHDF5Shim_H5T_STD_U64LE(void) { return H5T_STD_U64LE; }
hid_t CHDF5Shim_H5T_STD_I64LE(void) { return H5T_STD_I64LE; }
hid_t CHDF5Shim_H5T_IEEE_F64LE(void) { return H5T_IEEE_F64LE; }
void CHDF5Shim_H5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }


unsigned CHDF5Shim_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
unsigned CHDF5Shim_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }
unsigned CHDF5Shim_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
unsigned CHDF5Shim_H5F_ACC_SWMR_WRITE(void) { return H5F_ACC_SWMR_WRITE; }
unsigned CHDF5Shim_H5F_ACC_SWMR_READ(void) { return H5F_ACC_SWMR_READ; }
size_t CHDF5Shim_H5T_VARIABLE(void) { return H5T_VARIABLE; }

herr_t CHDF5Shim_H5P_set_recovery_access(hid_t fapl) {
    // The names of H5F_ACS_CLEAR_STATUS_FLAGS_NAME and H5F_ACS_SKIP_EOF_CHECK_NAME (H5Fprivate.h),
    // registered in every file-access property list; h5clear sets them the same way.
    hbool_t on = 1;
    if (H5Pset(fapl, "clear_status_flags", &on) < 0) return -1;
    if (H5Pset(fapl, "skip_eof_check", &on) < 0) return -1;
    return 0;
}

// MARK: - HDF5 filters (in-process, so our own tools read what we write)

static size_t filter_swap(size_t produced, void *out, size_t *buf_size, void **buf) {
    H5free_memory(*buf);
    *buf = out;
    *buf_size = produced;
    return produced;
}

/// One filter pass of codec `codec` over the chunk in *buf, through the chunk codec's framing.
static size_t codec_filter(int codec, int level, unsigned flags, size_t nbytes, size_t *buf_size, void **buf) {
    if (flags & H5Z_FLAG_REVERSE) {
        size_t content = CChunkCodec_decoded_size(codec, *buf, nbytes);
        if (content == SIZE_MAX) return 0;
        void *out = H5allocate_memory(content ? content : 1, false);
        if (!out) return 0;
        if (CChunkCodec_decode(codec, *buf, nbytes, out, content) != 0) { H5free_memory(out); return 0; }
        return filter_swap(content, out, buf_size, buf);
    }
    size_t bound = CChunkCodec_bound(codec, nbytes);
    void *out = H5allocate_memory(bound, false);
    if (!out) return 0;
    size_t n = CChunkCodec_encode_once(codec, level, *buf, nbytes, out, bound);
    if (n == 0) { H5free_memory(out); return 0; }
    return filter_swap(n, out, buf_size, buf);
}

static size_t zstd_filter(unsigned flags, size_t cd_nelmts, const unsigned cd_values[], size_t nbytes,
                          size_t *buf_size, void **buf) {
    return codec_filter(CCHUNKCODEC_ZSTD, cd_nelmts > 0 ? (int)cd_values[0] : 1, flags, nbytes, buf_size, buf);
}

static size_t lz4_filter(unsigned flags, size_t cd_nelmts, const unsigned cd_values[], size_t nbytes,
                         size_t *buf_size, void **buf) {
    (void)cd_nelmts; (void)cd_values;
    return codec_filter(CCHUNKCODEC_LZ4, 1, flags, nbytes, buf_size, buf);
}

herr_t CHDF5Shim_H5Z_register_codecs(void) {
    static const H5Z_class2_t zstd_class = {
        H5Z_CLASS_T_VERS, (H5Z_filter_t)CHDF5SHIM_FILTER_ZSTD, 1, 1, "Zstandard (recorder)", NULL, NULL, zstd_filter,
    };
    static const H5Z_class2_t lz4_class = {
        H5Z_CLASS_T_VERS, (H5Z_filter_t)CHDF5SHIM_FILTER_LZ4, 1, 1, "LZ4 (recorder)", NULL, NULL, lz4_filter,
    };
    if (H5Zregister(&zstd_class) < 0) return -1;
    if (H5Zregister(&lz4_class) < 0) return -1;
    return 0;
}
