#ifndef CX11SHIM_HDF5_H
#define CX11SHIM_HDF5_H
#include <hdf5.h>

/// HDF5's runtime globals and cast macros, which Swift cannot import.
hid_t CX11Shim_H5P_DEFAULT(void);
hid_t CX11Shim_H5P_FILE_ACCESS(void);
hid_t CX11Shim_H5P_FILE_CREATE(void);
hid_t CX11Shim_H5P_DATASET_CREATE(void);
hid_t CX11Shim_H5P_DATASET_ACCESS(void);
hid_t CX11Shim_H5P_DATASET_XFER(void);
hid_t CX11Shim_H5P_LINK_CREATE(void);
hid_t CX11Shim_H5S_ALL(void);
hsize_t CX11Shim_H5S_UNLIMITED(void);
hid_t CX11Shim_H5T_NATIVE_UINT8(void);
hid_t CX11Shim_H5T_NATIVE_INT8(void);
hid_t CX11Shim_H5T_NATIVE_UINT16(void);
hid_t CX11Shim_H5T_NATIVE_INT16(void);
hid_t CX11Shim_H5T_NATIVE_UINT32(void);
hid_t CX11Shim_H5T_NATIVE_INT32(void);
hid_t CX11Shim_H5T_NATIVE_UINT64(void);
hid_t CX11Shim_H5T_NATIVE_INT64(void);
hid_t CX11Shim_H5T_NATIVE_FLOAT(void);
hid_t CX11Shim_H5T_NATIVE_DOUBLE(void);
hid_t CX11Shim_H5T_C_S1(void);
hid_t CX11Shim_H5T_STD_U8LE(void);
hid_t CX11Shim_H5T_STD_I8LE(void);
hid_t CX11Shim_H5T_STD_U16LE(void);
hid_t CX11Shim_H5T_STD_I16LE(void);
hid_t CX11Shim_H5T_STD_U32LE(void);
hid_t CX11Shim_H5T_STD_I32LE(void);
hid_t CX11Shim_H5T_STD_U64LE(void);
hid_t CX11Shim_H5T_STD_I64LE(void);
hid_t CX11Shim_H5T_IEEE_F32LE(void);
hid_t CX11Shim_H5T_IEEE_F64LE(void);
/// Silences HDF5's default error stack printing (errors are reported through our own log).
void CX11Shim_H5_silence_errors(void);
#endif
