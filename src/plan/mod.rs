//! Logical planning: the Generate node and the relation planner for LATERAL VIEW.

pub mod generate;
pub mod hive_exprs;
pub mod lateral_view;
pub mod placeholder;

pub use generate::GenerateNode;
pub use lateral_view::LateralViewPlanner;
