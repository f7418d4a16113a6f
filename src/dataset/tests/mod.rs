//! Unit tests of dataset input, writing small files into temporary directories.

mod bench;
