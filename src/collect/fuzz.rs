//! Entry points for the fuzz targets (tests/fuzz): every parser of OS input, on bytes.
