//! Tables Apiary provides without setup.

pub mod sample;

pub use sample::{is_sample_table, register_sample_tables};
