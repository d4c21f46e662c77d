//! A client of Adobe Commerce's REST API, for the integrations that change
//! Commerce from a back office (and anything else that calls Commerce).
//!
//! - **Auth, chosen by configuration** ([`CommerceAuth`]): OAuth 1.0a with
//!   HMAC-SHA256 for a Commerce integration on PaaS ([`oauth1`]: RFC 5849
//!   base string and encoding, query parameters signed, JSON body not), or an
//!   IMS bearer with `x-api-key` (PaaS with IMS, and SaaS) from the shared
//!   [`ImsTokenProvider`].
//! - **Where** ([`Endpoint`]): PaaS `<base>/rest/<store>/V1/…`, SaaS
//!   `https://<region>.api.commerce.adobe.com/<tenant>/V1/…` with a `Store`
//!   header, decided by `COMMERCE_BASE_URL`'s host ([`config`]).
//! - **Calls** ([`CommerceClient`]): typed calls for products, customers,
//!   customer groups, order comments, order ship, shipments, inventory
//!   source items, searches with [`SearchCriteria`], and a generic
//!   [`CommerceClient::request`].
//! - **Errors** ([`CommerceError`]): Commerce's `message` and `parameters`
//!   kept and rendered, every failure classified ([`Disposition`]) so a
//!   handler knows whether to retry or to drop the event with Commerce's message.
//! - **Tests** (feature `test-util`): [`testing::FakeCommerce`], a loopback
//!   Commerce that verifies signatures with its own implementation.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use commerce_kit_commerce_api::{CommerceAuth, CommerceClient, CommerceConfig, Condition, SearchCriteria};
//! # let fake = commerce_kit_commerce_api::testing::FakeCommerce::start(
//! #     commerce_kit_commerce_api::testing::FakeAuth::oauth1("ck", "cs", "at", "ats")).await?;
//! # let base_url = fake.base_url();
//!
//! let auth = CommerceAuth::oauth1_from_parts("ck", "cs", "at", "ats")?;
//! let client = CommerceClient::new(CommerceConfig::from_parts(&base_url, Some("default"), auth)?)?;
//! client.update_product("24-MB01", &serde_json::json!({"sku": "24-MB01", "price": 34})).await?;
//! client
//!     .search_products(&SearchCriteria::new().filter("sku", "24-MB%", Condition::Like).page_size(10))
//!     .await?;
//! # assert_eq!(fake.calls()[0].path, "/rest/default/V1/products/24-MB01");
//! # assert!(fake.calls().iter().all(|c| c.auth.is_valid()));
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod client;
pub mod config;
pub mod error;
pub mod model;
pub mod oauth1;
pub mod search;
#[cfg(feature = "test-util")]
pub mod testing;

pub use client::{CommerceClient, encode_segment};
pub use commerce_kit_core::http::ClientTimeouts;
pub use commerce_kit_core::ims::{ImsCredentials, ImsError, ImsTokenProvider};
pub use config::{CommerceAuth, CommerceConfig, ConfigError, Endpoint};
pub use error::{CommerceError, CommerceMessage, Disposition, Parameters};
pub use oauth1::{OAuth1Credentials, OAuth1Signer};
pub use search::{Condition, SearchCriteria};
