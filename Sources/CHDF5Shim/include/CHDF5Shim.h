#ifndef CHDF5SHIM_H
#define CHDF5SHIM_H
#include <hdf5.h>
#include <stddef.h>

/// HDF5's runtime globals and cast macros, which Swift cannot import.
hid_t CHDF5Shim_H5P_DEFAULT(void);
hid_t CHDF5Shim_H5P_FILE_ACCESS(void);
hid_t CHDF5Shim_H5P_DATASET_CREATE(void);
hid_t CHDF5Shim_H5P_DATASET_ACCESS(void);
hid_t CHDF5Shim_H5P_LINK_CREATE(void);
hid_t CHDF5Shim_H5S_ALL(void);
hsize_t CHDF5Shim_H5S_UNLIMITED(void);
hid_t CHDF5Shim_H5T_NATIVE_INT64(void);
hid_t CHDF5Shim_H5T_NATIVE_DOUBLE(void);
hid_t CHDF5Shim_H5T_C_S1(void);
hid_t CHDF5Shim_H5T_STD_U8LE(void);
hid_t CHDF5Shim_H5T_STD_U16LE(void);
hid_t CHDF5Shim_H5T_STD_U32LE(void);
hid_t CHDF5Shim_H5T_STD_I32LE(void);
hid_t CHDF5Shim_H5T_STD_U64LE(void);
hid_t CHDF5Shim_H5T_STD_I64LE(void);
hid_t CHDF5Shim_H5T_IEEE_F64LE(void);
/// Silences HDF5's default error stack printing (errors are reported through our own log).
void CHDF5Shim_H5_silence_errors(void);

/// File access flags (macros that call H5open, which Swift cannot import).
unsigned CHDF5Shim_H5F_ACC_RDONLY(void);
unsigned CHDF5Shim_H5F_ACC_RDWR(void);
unsigned CHDF5Shim_H5F_ACC_TRUNC(void);
unsigned CHDF5Shim_H5F_ACC_SWMR_WRITE(void);
unsigned CHDF5Shim_H5F_ACC_SWMR_READ(void);
size_t CHDF5Shim_H5T_VARIABLE(void);

/// Sets the private file-access properties `h5clear -s --increment=0` uses: clear the superblock's
/// "file is open for writing" flags and skip the EOA/EOF check, so a file left by a killed SWMR
/// writer opens read-write. Returns a negative value on failure.
herr_t CHDF5Shim_H5P_set_recovery_access(hid_t fapl);

/// Filter ids of the registered codecs (hdf5plugin / Debian hdf5-filter-plugin numbering).
#define CHDF5SHIM_FILTER_ZSTD 32015
#define CHDF5SHIM_FILTER_LZ4 32004

/// Registers in-process Zstandard (32015) and LZ4 (32004) filters with real encode and decode
/// functions (CChunkCodec), byte-compatible with hdf5plugin's. Returns a negative value on failure.
herr_t CHDF5Shim_H5Z_register_codecs(void);

#endif
