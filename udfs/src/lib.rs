//! Apiary's function library: generators (Hive's UDTFs) and Hive built-in functions.
//!
//! This crate never depends on the engine (`apiary`); the engine depends on it. Generators
//! implement [`generator::Generator`]; scalar and aggregate functions are ordinary DataFusion
//! UDFs and UDAFs.

pub mod generator;
pub mod hive;

use datafusion::common::Result;
use datafusion::execution::FunctionRegistry;

pub use generator::{
    GenerateCursor, GeneratedRows, Generator, GeneratorArg, GeneratorRegistry, all_generators,
};

/// Registers every scalar and aggregate function of this crate with `registry`
/// (generators are registered with a [`GeneratorRegistry`], which the planner owns).
pub fn register_all(registry: &mut dyn FunctionRegistry) -> Result<()> {
    for udf in hive::all_scalar_functions() {
        registry.register_udf(udf)?;
    }
    for udaf in hive::all_aggregate_functions() {
        registry.register_udaf(udaf)?;
    }
    Ok(())
}
