//! Process setup of the commerce-kit binaries, and only theirs: flags with
//! environment variables and a `.env` file ([`config`]), logging, and each
//! flow's settings validated into the libraries' services and option structs
//! ([`check_stock`], [`ingestion`], [`consumer`] with the reference sync
//! handlers of [`commerce`], [`catalog`]), and the
//! developer tooling of `commerce-kit` ([`webhooks`], [`tooling`]).
//!
//! The library crates take plain option structs and builders and depend on
//! none of clap, dotenvy or tracing-subscriber; this crate is where those
//! live, shared by `check-stock`, `ingestion-webhook`, `event-consumer` and
//! `commerce-kit`.
#![deny(missing_docs)]

pub mod catalog;
pub mod check_stock;
pub mod commerce;
pub mod config;
pub mod consumer;
pub mod dead_letters;
pub mod ims;
pub mod ingestion;
pub mod journal;
pub mod onboard;
pub mod openapi;
pub mod prometheus;
pub mod tooling;
pub mod webhooks;
