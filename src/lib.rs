//! Apiary: a Hive-style SQL engine on Apache DataFusion.
//!
//! Every statement, from every front end, goes through [`ApiaryContext`]: Hive-aware
//! splitting and `${var}` substitution ([`sql`]), rewrites of LATERAL VIEW and generator
//! forms, DataFusion's planner with Apiary's [`plan::LateralViewPlanner`], and the
//! [`exec::GenerateExec`] operator.

pub mod catalog;
pub mod cli;
pub mod error;
pub mod exec;
pub mod ml;
pub mod plan;
pub mod security;
pub mod server;
pub mod session;
pub mod sql;
pub mod suggest;
pub mod warehouse;

pub use apiary_udfs as udfs;
pub use error::{ApiaryError, Result};
pub use session::{ApiaryContext, StatementOutput};
