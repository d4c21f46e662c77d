//! Adobe IMS OAuth server-to-server tokens, cached in memory.
//!
//! The provider lives in [`commerce_kit_core::ims`] so the Commerce REST client
//! shares it; this module re-exports it where the publisher has always had it.

pub use commerce_kit_core::ims::*;
