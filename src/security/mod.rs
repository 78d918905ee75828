//! What a session may touch: the local files a statement may name ([`access`]), the names of
//! the objects it creates ([`names`]), and the checks every statement passes before it runs
//! ([`guard`]). See the README's "Security" section for the threat model.

pub mod access;
pub mod guard;
pub mod names;

pub use access::{Confinement, FileAccess};
pub use guard::StatementGuard;
pub use names::{NameKind, check_name};
