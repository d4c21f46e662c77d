//! Built-in handlers for the default setup: [`LoggingHandler`] (the embedded
//! default: logs each event) and [`ForwardingHandler`] (POSTs each event to a
//! back-office or Commerce-side URL).

mod forwarding;
mod logging;

pub use forwarding::{ForwardingHandler, ForwardingOptions};
pub use logging::LoggingHandler;
