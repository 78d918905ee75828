//! Tables Apiary provides without setup.

pub mod sample;

pub use sample::register_sample_tables;
