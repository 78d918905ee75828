//! `version()`, `current_user()` and `logged_in_user()`: facts about the running Apiary.
//!
//! The user is the operating-system user that runs Apiary (`$USER`, else `$LOGNAME`, else the
//! `/etc/passwd` name of the process's uid), as the Hive CLI reports its OS user; a Flight SQL client sees the server process's user, not the
//! name it authenticated with (Apiary has no per-user sessions).

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::scalar_doc_sections::DOC_SECTION_OTHER;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::hive::hive_doc;

/// Which fact a [`SessionInfoFunc`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Info {
    Version,
    CurrentUser,
    LoggedInUser,
}

/// `version()`, `current_user()` or `logged_in_user()`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SessionInfoFunc {
    info: Info,
    signature: Signature,
}

impl SessionInfoFunc {
    fn new(info: Info) -> Self {
        Self {
            info,
            signature: Signature::nullary(Volatility::Stable),
        }
    }

    /// Creates `version()`.
    pub fn version() -> Self {
        Self::new(Info::Version)
    }

    /// Creates `current_user()`.
    pub fn current_user() -> Self {
        Self::new(Info::CurrentUser)
    }

    /// Creates `logged_in_user()`.
    pub fn logged_in_user() -> Self {
        Self::new(Info::LoggedInUser)
    }
}

/// The OS user running Apiary: `$USER`, `$LOGNAME`, or the passwd name of the process's uid.
fn os_user() -> Option<String> {
    ["USER", "LOGNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|u| !u.is_empty())
        .or_else(passwd_user)
}

/// The `/etc/passwd` name of the uid that owns this process (`/proc/self`).
#[cfg(target_os = "linux")]
fn passwd_user() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid().to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid).then(|| name.to_owned())
    })
}

#[cfg(not(target_os = "linux"))]
fn passwd_user() -> Option<String> {
    None
}

static VERSION_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_OTHER,
        "Returns the Apiary version (Hive returns its own version and build revision).",
        "version()",
        "SELECT version();",
    )
});

static CURRENT_USER_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_OTHER,
        "Returns the current user name: the operating-system user running Apiary ($USER, \
         else the passwd name of its uid).",
        "current_user()",
        "SELECT current_user();",
    )
});

static LOGGED_IN_USER_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    hive_doc(
        DOC_SECTION_OTHER,
        "Returns the user name the session logged in with: in Apiary the operating-system user \
         running it, as current_user().",
        "logged_in_user()",
        "SELECT logged_in_user();",
    )
});

impl ScalarUDFImpl for SessionInfoFunc {
    fn name(&self) -> &str {
        match self.info {
            Info::Version => "version",
            Info::CurrentUser => "current_user",
            Info::LoggedInUser => "logged_in_user",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let value = match self.info {
            Info::Version => Some(env!("CARGO_PKG_VERSION").to_owned()),
            Info::CurrentUser | Info::LoggedInUser => os_user(),
        };
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(value)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(match self.info {
            Info::Version => &VERSION_DOC,
            Info::CurrentUser => &CURRENT_USER_DOC,
            Info::LoggedInUser => &LOGGED_IN_USER_DOC,
        })
    }
}
