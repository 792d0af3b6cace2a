#include "CX11Shim_hdf5.h"

hid_t CX11Shim_H5P_DEFAULT(void) { return H5P_DEFAULT; }
hid_t CX11Shim_H5P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
hid_t CX11Shim_H5P_FILE_CREATE(void) { return H5P_FILE_CREATE; }
hid_t CX11Shim_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
hid_t CX11Shim_H5P_DATASET_ACCESS(void) { return H5P_DATASET_ACCESS; }
hid_t CX11Shim_H5P_DATASET_XFER(void) { return H5P_DATASET_XFER; }
hid_t CX11Shim_H5P_LINK_CREATE(void) { return H5P_LINK_CREATE; }
hid_t CX11Shim_H5S_ALL(void) { return H5S_ALL; }
hsize_t CX11Shim_H5S_UNLIMITED(void) { return H5S_UNLIMITED; }
hid_t CX11Shim_H5T_NATIVE_UINT8(void) { return H5T_NATIVE_UINT8; }
hid_t CX11Shim_H5T_NATIVE_INT8(void) { return H5T_NATIVE_INT8; }
hid_t CX11Shim_H5T_NATIVE_UINT16(void) { return H5T_NATIVE_UINT16; }
hid_t CX11Shim_H5T_NATIVE_INT16(void) { return H5T_NATIVE_INT16; }
hid_t CX11Shim_H5T_NATIVE_UINT32(void) { return H5T_NATIVE_UINT32; }
hid_t CX11Shim_H5T_NATIVE_INT32(void) { return H5T_NATIVE_INT32; }
hid_t CX11Shim_H5T_NATIVE_UINT64(void) { return H5T_NATIVE_UINT64; }
hid_t CX11Shim_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
hid_t CX11Shim_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
hid_t CX11Shim_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
hid_t CX11Shim_H5T_C_S1(void) { return H5T_C_S1; }
hid_t CX11Shim_H5T_STD_U8LE(void) { return H5T_STD_U8LE; }
hid_t CX11Shim_H5T_STD_I8LE(void) { return H5T_STD_I8LE; }
hid_t CX11Shim_H5T_STD_U16LE(void) { return H5T_STD_U16LE; }
hid_t CX11Shim_H5T_STD_I16LE(void) { return H5T_STD_I16LE; }
hid_t CX11Shim_H5T_STD_U32LE(void) { return H5T_STD_U32LE; }
hid_t CX11Shim_H5T_STD_I32LE(void) { return H5T_STD_I32LE; }
hid_t CX11Shim_H5T_STD_U64LE(void) { return H5T_STD_U64LE; }
hid_t CX11Shim_H5T_STD_I64LE(void) { return H5T_STD_I64LE; }
hid_t CX11Shim_H5T_IEEE_F32LE(void) { return H5T_IEEE_F32LE; }
hid_t CX11Shim_H5T_IEEE_F64LE(void) { return H5T_IEEE_F64LE; }
void CX11Shim_H5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
