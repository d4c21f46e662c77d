//! `commerce-kit onboard`: converges Adobe I/O Events and Commerce to the
//! onboarding file (`commerce-kit-onboard`), with the credentials the other
//! binaries use.
//!
//! | flag | env | default |
//! |---|---|---|
//! | `--file FILE` | `ONBOARD_FILE` | `onboard.json` |
//! | `--dry-run` | | off: print the plan, change nothing |
//! | `--output text\|json` | | `text` |
//! | `--oauth-client-id ID` | `OAUTH_CLIENT_ID` | required (also the `x-api-key`) |
//! | `--oauth-client-secret SECRET` | `OAUTH_CLIENT_SECRET` | required |
//! | `--oauth-org-id ORG` | `OAUTH_ORG_ID` | none (sent as `x-ims-org-id` when set) |
//! | `--oauth-scopes LIST` | `OAUTH_SCOPES` | `adobeio_api` |
//! | `--ims-base-url URL` | `IMS_BASE_URL` | `https://ims-na1.adobelogin.com` |
//! | `--io-management-base-url URL` | `IO_MANAGEMENT_BASE_URL` | `https://api.adobe.io/events/` |
//! | `--io-consumer-id ID` | `IO_CONSUMER_ID` | required (`project.org.id` of the workspace file) |
//! | `--io-project-id ID` | `IO_PROJECT_ID` | required (`project.id`) |
//! | `--io-workspace-id ID` | `IO_WORKSPACE_ID` | required (`project.workspace.id`) |
//!
//! The `IO_*` names are the starter kit's (`env.dist`). Commerce is reached
//! with the reference handlers' settings (`COMMERCE_BASE_URL`, OAuth 1.0a or
//! IMS credentials: see [`crate::commerce`]); they are needed only when the
//! file has a `commerce` section. The check-stock hook's registration is
//! what `commerce-kit webhooks` generates for the file's hook options.
//!
//! Exit status: 0 converged (or planned), 1 a call failed (the report names
//! it; rerunning continues), 2 a bad setting or file.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use commerce_kit_commerce_api::ClientTimeouts;
use commerce_kit_onboard::io::DEFAULT_BASE_URL;
use commerce_kit_onboard::{HookRegistration, IoManagement, Mode, OnboardFile, Targets, Workspace, converge};

use crate::catalog::CatalogArgs;
use crate::commerce::SyncArgs;
use crate::config::ConfigError;
use crate::ims::ImsArgs;
use crate::tooling::Outcome;
use crate::webhooks::{HookAuth, RegistrationFormat, WebhooksArgs};

/// How the report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// For a person.
    #[default]
    Text,
    /// One JSON document, for scripts.
    Json,
}

/// `commerce-kit onboard` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct OnboardArgs {
    /// The onboarding file (JSON): providers, registrations, Commerce.
    #[arg(long, env = "ONBOARD_FILE", default_value = "onboard.json", value_name = "FILE")]
    pub file: PathBuf,
    /// Print the plan (create / update / keep per object) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Report format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// The project's IMS credentials (the I/O Management API's token).
    #[command(flatten)]
    pub ims: ImsArgs,
    /// The I/O Management API.
    #[arg(long, env = "IO_MANAGEMENT_BASE_URL", default_value = DEFAULT_BASE_URL, value_name = "URL")]
    pub io_management_base_url: String,
    /// Consumer org id (`project.org.id` of the Developer Console workspace file).
    #[arg(long, env = "IO_CONSUMER_ID", value_name = "ID")]
    pub io_consumer_id: Option<String>,
    /// Project id (`project.id`).
    #[arg(long, env = "IO_PROJECT_ID", value_name = "ID")]
    pub io_project_id: Option<String>,
    /// Workspace id (`project.workspace.id`).
    #[arg(long, env = "IO_WORKSPACE_ID", value_name = "ID")]
    pub io_workspace_id: Option<String>,
    /// The event catalog the providers' events and samples come from.
    #[command(flatten)]
    pub catalog: CatalogArgs,
    /// The Commerce connection.
    #[command(flatten)]
    pub commerce: SyncArgs,
}

fn required(value: Option<&str>, flag: &str, env: &str) -> Result<String, ConfigError> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| ConfigError::setting(flag, env, "required by onboard"))
}

impl OnboardArgs {
    /// Reads the file and the settings, converges (or plans), and returns the report.
    pub async fn run(&self) -> Result<Outcome, ConfigError> {
        let catalog = self.catalog.load().map_err(|e| ConfigError(e.to_string()))?;
        let file = OnboardFile::load(&self.file).map_err(|e| ConfigError(e.to_string()))?;
        let desired = file
            .resolve(&catalog, self.file.parent())
            .map_err(|e| ConfigError(format!("onboarding file {}: {e}", self.file.display())))?;

        let workspace = Workspace {
            consumer_id: required(self.io_consumer_id.as_deref(), "--io-consumer-id", "IO_CONSUMER_ID")?,
            project_id: required(self.io_project_id.as_deref(), "--io-project-id", "IO_PROJECT_ID")?,
            workspace_id: required(self.io_workspace_id.as_deref(), "--io-workspace-id", "IO_WORKSPACE_ID")?,
        };
        let http = commerce_kit_core::http::client(ClientTimeouts {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(30),
        })
        .map_err(|e| ConfigError(e.to_string()))?;
        let (ims, _) = self.ims.provider("onboard")?;
        let ims = Arc::new(ims);
        let io = IoManagement::new(
            http,
            &self.io_management_base_url,
            workspace,
            ims,
            self.ims.org_id().as_deref(),
        )
        .map_err(ConfigError)?;

        let commerce = match &desired.commerce {
            None => None,
            // No handler deadline bounds onboarding's calls: COMMERCE_TIMEOUT_MS alone does.
            Some(_) => Some(
                self.commerce
                    .commerce_client(Duration::from_secs(3600))?
                    .ok_or_else(|| {
                        ConfigError::setting(
                            "--commerce-base-url",
                            "COMMERCE_BASE_URL",
                            "required: the onboarding file has a commerce section",
                        )
                    })?,
            ),
        };
        let hook = match desired.commerce.as_ref().and_then(|c| c.hook.as_ref()) {
            None => None,
            Some(spec) => {
                let args = WebhooksArgs {
                    url: spec.url.clone(),
                    timeout_ms: spec.timeout_ms.unwrap_or(5000),
                    soft_timeout_ms: spec.soft_timeout_ms.unwrap_or(1000),
                    required: spec.required.unwrap_or(true),
                    fallback_message: spec
                        .fallback_message
                        .clone()
                        .unwrap_or_else(|| "The product stock validation failed".to_owned()),
                    batch_name: spec.batch_name.clone().unwrap_or_else(|| "validate_stock".to_owned()),
                    hook_name: spec.hook_name.clone().unwrap_or_else(|| "check_stock".to_owned()),
                    auth: HookAuth::Signature,
                    ims_client_id: None,
                    ims_org_id: None,
                    ims_client_secret_env: "COMMERCE_WEBHOOK_IMS_CLIENT_SECRET".to_owned(),
                    format: RegistrationFormat::Both,
                };
                let registration = args
                    .registration()
                    .map_err(|e| ConfigError(format!("commerce.check_stock_hook: {}", e.0)))?;
                Some(HookRegistration {
                    xml: registration.xml(),
                    subscribe_body: registration.subscribe_body(),
                    secret: None,
                })
            }
        };

        let mode = if self.dry_run { Mode::DryRun } else { Mode::Apply };
        let report = converge(
            &desired,
            Targets {
                io: &io,
                commerce: commerce.as_ref(),
                hook: hook.as_ref(),
            },
            mode,
        )
        .await;
        let text = match self.output {
            OutputFormat::Text => report.render_text(),
            OutputFormat::Json => format!(
                "{}\n",
                serde_json::to_string_pretty(&report.to_json()).unwrap_or_default()
            ),
        };
        Ok(Outcome {
            report: text,
            status: if report.failure.is_some() { 1 } else { 0 },
        })
    }
}
