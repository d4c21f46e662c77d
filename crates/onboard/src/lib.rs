//! `commerce-kit onboard`: one declarative file ([`spec`]) describing what an
//! integration needs in Adobe I/O Events and in Commerce, and an engine
//! ([`converge`]) that makes it so.
//!
//! - **Adobe I/O Events**, through the I/O Management API ([`io`]): event
//!   providers (recognised by label), their event metadata with sample
//!   templates (taken from the event catalog by default), registrations
//!   (`webhook`, `webhook_batch` or `journal`), every list read page by page.
//! - **Commerce**, through [`commerce_kit_commerce_api::CommerceClient`]: the
//!   eventing configuration, the Commerce-side event provider, the event
//!   subscriptions, and the check-stock hook (`POST /V1/webhooks/subscribe`,
//!   or the `webhooks.xml` snippet to paste on PaaS).
//!
//! Missing objects are created, differing ones updated, matching ones kept;
//! nothing is created twice. [`Mode::DryRun`] sends reads only. The first
//! failure stops a run and the [`Report`] names the object, the call and
//! Adobe's or Commerce's own message; a rerun continues where it stopped.
//! Reports never contain a secret (the workspace configuration, the hook's
//! client secret and tokens are sent, never shown).
#![deny(missing_docs)]

pub mod converge;
pub mod io;
pub mod spec;
#[cfg(feature = "test-util")]
pub mod testing;

pub use converge::{Action, Failure, HookRegistration, Manual, Mode, Report, Step, Summary, System, Targets, converge};
pub use io::{IoError, IoManagement, Workspace};
pub use spec::{Desired, OnboardFile, SpecError};
