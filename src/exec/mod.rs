//! Physical operators and their planning.

pub mod generate;
pub mod planner;

pub use generate::GenerateExec;
pub use planner::ApiaryQueryPlanner;
