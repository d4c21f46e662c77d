//! Catalog settings (flags + environment), shared by every binary that validates events.

use std::path::PathBuf;

use commerce_kit_model::catalog::{Catalog, CatalogError, CatalogMode};

/// How an `events.json` combines with the built-in catalog (flag values of
/// [`CatalogMode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CatalogModeArg {
    /// The file's events are added to the built-in ones; a code defined in both
    /// takes the file's sample (and schema, if the file gives one).
    #[default]
    Extend,
    /// Only the file's events exist.
    Replace,
}

impl From<CatalogModeArg> for CatalogMode {
    fn from(mode: CatalogModeArg) -> Self {
        match mode {
            CatalogModeArg::Extend => CatalogMode::Extend,
            CatalogModeArg::Replace => CatalogMode::Replace,
        }
    }
}

/// Event catalog settings.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CatalogArgs {
    /// An `events.json` in the starter kit's layout (`{entity: {provider: {code:
    /// {sampleEventTemplate, schema?}}}}`); default: the built-in catalog only.
    #[arg(long, env = "EVENTS_CATALOG_FILE", value_name = "FILE")]
    pub events_catalog_file: Option<PathBuf>,

    /// Whether the file extends or replaces the built-in catalog.
    #[arg(long, env = "EVENTS_CATALOG_MODE", value_enum, default_value_t = CatalogModeArg::Extend)]
    pub events_catalog_mode: CatalogModeArg,
}

impl CatalogArgs {
    /// Loads the catalog (compiling every schema); a bad file is an error naming it.
    pub fn load(&self) -> Result<Catalog, CatalogError> {
        Catalog::load(self.events_catalog_file.as_deref(), self.events_catalog_mode.into())
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        catalog: CatalogArgs,
    }

    #[test]
    fn catalog_args_default_to_the_builtin_catalog_and_take_a_file_and_mode() {
        let cli = Cli::try_parse_from(["x"]).expect("defaults");
        assert_eq!(cli.catalog.events_catalog_mode, CatalogModeArg::Extend);
        assert_eq!(cli.catalog.load().expect("builtin").len(), 13);

        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("events.json");
        std::fs::write(&file, r#"{"a": {"erp": {"erp.x": {"sampleEventTemplate": {}}}}}"#).expect("write");
        let cli = Cli::try_parse_from([
            "x",
            "--events-catalog-file",
            file.to_str().expect("utf8"),
            "--events-catalog-mode",
            "replace",
        ])
        .expect("flags");
        assert_eq!(cli.catalog.load().expect("file").len(), 1);
        assert!(Cli::try_parse_from(["x", "--events-catalog-mode", "merge"]).is_err());
    }
}
