//! Catalog settings (flags + environment), shared by every binary that validates events.

use std::path::PathBuf;

use super::{Catalog, CatalogError};

/// How an `events.json` combines with the built-in catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CatalogMode {
    /// The file's events are added to the built-in ones; a code defined in both
    /// takes the file's sample (and schema, if the file gives one).
    #[default]
    Extend,
    /// Only the file's events exist.
    Replace,
}

/// Event catalog settings.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CatalogArgs {
    /// An `events.json` in the starter kit's layout (`{entity: {provider: {code:
    /// {sampleEventTemplate, schema?}}}}`); default: the built-in catalog only.
    #[arg(long, env = "EVENTS_CATALOG_FILE", value_name = "FILE")]
    pub events_catalog_file: Option<PathBuf>,

    /// Whether the file extends or replaces the built-in catalog.
    #[arg(long, env = "EVENTS_CATALOG_MODE", value_enum, default_value_t = CatalogMode::Extend)]
    pub events_catalog_mode: CatalogMode,
}

impl CatalogArgs {
    /// Loads the catalog (compiling every schema); a bad file is an error naming it.
    pub fn load(&self) -> Result<Catalog, CatalogError> {
        Catalog::load(self.events_catalog_file.as_deref(), self.events_catalog_mode)
    }
}
