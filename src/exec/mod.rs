//! Physical operators and their planning.

pub mod generate;
pub mod planner;
pub mod pool;

pub use generate::GenerateExec;
pub use planner::ApiaryQueryPlanner;

/// The stack of every thread that parses, plans or runs statements. Deep statements (long
/// operator chains, many LATERAL VIEWs, large UNIONs) recurse deeply in sqlparser, DataFusion
/// and Apiary's own passes; tokio's default 2 MiB, or the main thread's 8 MiB, is not enough
/// (Ballista's binaries use 32 MiB). Only the pages a thread touches are committed.
pub const STATEMENT_STACK_SIZE: usize = 64 << 20;
