//! Apiary's function library: generators (Hive's UDTFs), Hive built-in functions, and
//! position encodings with the vector functions around them.
//!
//! This crate never depends on the engine (`apiary`); the engine depends on it. Generators
//! implement [`generator::Generator`]; scalar and aggregate functions are ordinary DataFusion
//! UDFs and UDAFs.

pub mod generator;
pub mod hive;
pub mod memory_bound;
pub mod position;

use datafusion::common::Result;
use datafusion::execution::FunctionRegistry;

pub use generator::{
    GenerateCursor, GeneratedRows, Generator, GeneratorArg, GeneratorRegistry, all_generators,
};

/// Registers every scalar and aggregate function of this crate with `registry`
/// (generators are registered with a [`GeneratorRegistry`], which the planner owns).
pub fn register_all(registry: &mut dyn FunctionRegistry) -> Result<()> {
    // Refused Hive functions first, and only where nothing else has the name: a real function
    // registered later replaces them.
    let taken = registry.udfs();
    let taken_aggregates = registry.udafs();
    for udf in hive::refused_functions() {
        if !taken.contains(udf.name()) && !taken_aggregates.contains(udf.name()) {
            registry.register_udf(udf)?;
        }
    }
    for udf in hive::all_scalar_functions()
        .into_iter()
        .chain(position::all_scalar_functions())
    {
        registry.register_udf(udf)?;
    }
    for udaf in hive::all_aggregate_functions() {
        registry.register_udaf(udaf)?;
    }
    Ok(())
}
