//! Finding a model by name and loading it once per process.
//!
//! SQL names a model by a constant string, `'name'` (in the session's current database) or
//! `'db.name'`. Loaded models are kept by their weights file: each stored version has a new
//! file, so a replaced model is loaded afresh and a dropped one is never found again.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};

use apiary_models::Model;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::ColumnarValue;

use crate::warehouse::Warehouse;
use crate::warehouse::models::ModelEntry;

/// Models loaded by this process, by weights file.
static LOADED: LazyLock<Mutex<HashMap<PathBuf, Arc<Model>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// A model found in the warehouse, loaded.
#[derive(Debug, Clone)]
pub struct LoadedModel {
    /// Its metastore row.
    pub entry: ModelEntry,
    /// Its weights.
    pub model: Arc<Model>,
}

/// `'db.name'` or `'name'` (in `current_db`), lower-cased.
pub fn qualify(name: &str, current_db: &str) -> Result<(String, String)> {
    let name = name.trim();
    let (db, model) = match name.split_once('.') {
        Some((db, model)) => (db, model),
        None => (current_db, name),
    };
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    };
    if !valid(db) || !valid(model) {
        return Err(DataFusionError::Plan(format!(
            "'{name}' is not a model name (name or db.name: letters, digits, _)"
        )));
    }
    Ok((db.to_ascii_lowercase(), model.to_ascii_lowercase()))
}

/// The model `name` for function `what`, loaded (once per process).
pub fn load(
    warehouse: &Warehouse,
    name: &str,
    current_db: &str,
    what: &str,
) -> Result<LoadedModel> {
    let (db, model) = qualify(name, current_db).map_err(|e| context(what, e))?;
    let entry = warehouse
        .metastore()
        .model(&db, &model)
        .map_err(|e| DataFusionError::Execution(format!("{what}: {e}")))?
        .ok_or_else(|| {
            DataFusionError::Plan(format!(
                "{what}: no model '{model}' in database '{db}' (SHOW MODELS lists them)"
            ))
        })?;
    let mut loaded = LOADED
        .lock()
        .map_err(|_| DataFusionError::Internal("the model cache is poisoned".into()))?;
    if let Some(m) = loaded.get(&entry.file) {
        return Ok(LoadedModel {
            entry,
            model: Arc::clone(m),
        });
    }
    let bytes = std::fs::read(&entry.file).map_err(|e| {
        DataFusionError::Execution(format!(
            "{what}: model {db}.{model}: cannot read {}: {e}",
            entry.file.display()
        ))
    })?;
    let model_weights = Model::from_safetensors(&bytes).map_err(|e| {
        DataFusionError::Execution(format!(
            "{what}: model {db}.{model}: {} is damaged: {e}",
            entry.file.display()
        ))
    })?;
    // Forget versions no longer stored (replaced or dropped models).
    loaded.retain(|file, _| file.exists());
    let model_weights = Arc::new(model_weights);
    loaded.insert(entry.file.clone(), Arc::clone(&model_weights));
    Ok(LoadedModel {
        entry,
        model: model_weights,
    })
}

fn context(what: &str, e: DataFusionError) -> DataFusionError {
    DataFusionError::Plan(format!("{what}: {}", e.strip_backtrace()))
}

/// A function's model argument: a constant, non-NULL string.
pub fn model_name(what: &str, arg: &ColumnarValue) -> Result<String> {
    let ColumnarValue::Scalar(scalar) = arg else {
        return Err(not_constant(what));
    };
    scalar_name(what, scalar)
}

/// A model name from a constant.
pub fn scalar_name(what: &str, scalar: &ScalarValue) -> Result<String> {
    match scalar {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Ok(s.clone()),
        s if s.is_null() => Err(DataFusionError::Plan(format!(
            "{what}: the model name is NULL"
        ))),
        _ => Err(not_constant(what)),
    }
}

fn not_constant(what: &str) -> DataFusionError {
    DataFusionError::Plan(format!(
        "{what}: the model must be named by a constant string, e.g. 'digits_nade'"
    ))
}
