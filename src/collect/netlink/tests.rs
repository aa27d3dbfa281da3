//! Decoding tests on recorded and hand-built bytes.
