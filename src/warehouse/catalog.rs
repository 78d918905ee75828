//! The warehouse as DataFusion's catalog: one schema per database. Each session has its own
//! catalog object, so session objects (temporary views, DataFusion `CREATE EXTERNAL TABLE ...
//! OPTIONS` tables, the sample tables) live in a per-session overlay that shadows nothing
//! persistent of another session; warehouse tables and views are read from the metastore on
//! every lookup, so a table or view another process created or changed is seen at once.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, MemorySchemaProvider, SchemaProvider, TableProvider};
use datafusion::common::{DataFusionError, Result, exec_err};

use super::Warehouse;
use super::metastore::TableKind;
use super::table::WarehouseTable;
use super::views::ViewPlanner;

/// The name of Apiary's catalog.
pub const CATALOG_NAME: &str = "apiary";

/// Every database of the warehouse, plus this session's objects.
#[derive(Debug)]
pub struct WarehouseCatalog {
    warehouse: Arc<Warehouse>,
    overlays: RwLock<HashMap<String, Arc<MemorySchemaProvider>>>,
    views: OnceLock<ViewPlanner>,
}

impl WarehouseCatalog {
    /// A catalog for one session.
    pub fn new(warehouse: Arc<Warehouse>) -> Self {
        Self {
            warehouse,
            overlays: RwLock::new(HashMap::new()),
            views: OnceLock::new(),
        }
    }

    /// Gives the catalog the session's view planner (once; views read before it fail).
    pub fn set_view_planner(&self, planner: ViewPlanner) {
        let _ = self.views.set(planner);
    }

    /// The session's view planner.
    pub fn view_planner(&self) -> Option<ViewPlanner> {
        self.views.get().cloned()
    }

    /// This session's objects in database `db`.
    pub fn overlay(&self, db: &str) -> Arc<MemorySchemaProvider> {
        if let Ok(map) = self.overlays.read()
            && let Some(o) = map.get(db)
        {
            return Arc::clone(o);
        }
        match self.overlays.write() {
            Ok(mut map) => Arc::clone(
                map.entry(db.to_string())
                    .or_insert_with(|| Arc::new(MemorySchemaProvider::new())),
            ),
            Err(_) => Arc::new(MemorySchemaProvider::new()),
        }
    }

    /// Forgets this session's objects in a dropped database.
    pub fn forget_overlay(&self, db: &str) {
        if let Ok(mut map) = self.overlays.write() {
            map.remove(db);
        }
    }
}

impl CatalogProvider for WarehouseCatalog {
    fn schema_names(&self) -> Vec<String> {
        let mut names = self
            .warehouse
            .metastore()
            .database_names()
            .unwrap_or_default();
        names.sort();
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        let name = name.to_ascii_lowercase();
        let exists = self
            .warehouse
            .metastore()
            .database(&name)
            .ok()
            .flatten()
            .is_some();
        exists.then(|| {
            Arc::new(DatabaseSchema {
                overlay: self.overlay(&name),
                db: name,
                warehouse: Arc::clone(&self.warehouse),
                views: self.view_planner(),
            }) as Arc<dyn SchemaProvider>
        })
    }

    fn register_schema(
        &self,
        name: &str,
        _schema: Arc<dyn SchemaProvider>,
    ) -> Result<Option<Arc<dyn SchemaProvider>>> {
        exec_err!("use CREATE DATABASE {name} to create a database")
    }
}

/// One database: this session's objects over the metastore's tables.
#[derive(Debug)]
pub struct DatabaseSchema {
    db: String,
    warehouse: Arc<Warehouse>,
    overlay: Arc<MemorySchemaProvider>,
    views: Option<ViewPlanner>,
}

impl DatabaseSchema {
    /// Whether `name` is one of this session's built-in sample tables (reserved: never
    /// replaced or dropped).
    fn is_registered_sample(&self, name: &str) -> bool {
        crate::catalog::is_sample_table(&self.db, name) && self.overlay.table_exist(name)
    }
}

fn reserved(name: &str, what: &str) -> DataFusionError {
    DataFusionError::Plan(crate::security::guard::sample_table_error(name, what).to_string())
}

fn external(e: crate::error::ApiaryError) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

#[async_trait]
impl SchemaProvider for DatabaseSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names = self
            .warehouse
            .metastore()
            .table_names(&self.db)
            .unwrap_or_default();
        names.extend(self.overlay.table_names());
        names.sort();
        names.dedup();
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        if let Some(t) = self.overlay.table(name).await? {
            return Ok(Some(t));
        }
        let meta = self
            .warehouse
            .metastore()
            .table(&self.db, &name.to_ascii_lowercase())
            .map_err(external)?;
        match meta {
            Some(m) if m.kind == TableKind::View => match &self.views {
                Some(planner) => Ok(Some(planner.provider(m).await)),
                None => exec_err!(
                    "view {}: this session cannot plan views",
                    m.qualified_name()
                ),
            },
            Some(m) => Ok(Some(Arc::new(WarehouseTable::new(
                m,
                Arc::clone(&self.warehouse),
            )))),
            None => Ok(None),
        }
    }

    fn register_table(
        &self,
        name: String,
        table: Arc<dyn TableProvider>,
    ) -> Result<Option<Arc<dyn TableProvider>>> {
        if self.is_registered_sample(&name) {
            return Err(reserved(&name, "CREATE"));
        }
        if self
            .warehouse
            .metastore()
            .table(&self.db, &name.to_ascii_lowercase())
            .map_err(external)?
            .is_some()
        {
            return exec_err!("table {}.{name} already exists in the warehouse", self.db);
        }
        self.overlay.register_table(name, table)
    }

    fn deregister_table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        if self.is_registered_sample(name) {
            return Err(reserved(name, "DROP"));
        }
        self.overlay.deregister_table(name)
    }

    fn table_exist(&self, name: &str) -> bool {
        self.overlay.table_exist(name)
            || self
                .warehouse
                .metastore()
                .table(&self.db, &name.to_ascii_lowercase())
                .ok()
                .flatten()
                .is_some()
    }
}
