//! Opening the journal file, and finding out whether it is damaged.
//!
//! redb verifies its pages when it recovers from an unclean shutdown, but
//! not when it opens a file that was closed cleanly; damage there (a bad
//! disk block, a stray write, a file copied while in use) used to surface
//! only when the consumer reached the damaged page. [`open_checked`] runs
//! redb's integrity check (every page's checksum) at every open, and when it
//! fails, reads every table to say where the damage is.
//!
//! Damage can show as an error or, in debug builds and a few release paths of
//! the storage library, as a panic: both are caught and become
//! [`BusError::Damaged`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::Instant;

use commerce_kit_core::server::panic_text;
use redb::{Database, DatabaseError, ReadableDatabase, ReadableTable, StorageError};

use super::store::{ACKS, CHECKPOINTS, DEAD, EVENTS, KEYS, META};
use super::{BusError, CACHE_BYTES};
use crate::cloudevent::CloudEvent;

/// Opens `path` (creating it when missing) without the integrity check; the
/// writer uses it to reopen the file after a write error.
pub(super) fn open_database(path: &Path) -> Result<Database, BusError> {
    let opened = catch_unwind(|| redb::Builder::new().set_cache_size(CACHE_BYTES).create(path));
    match opened {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(DatabaseError::DatabaseAlreadyOpen | DatabaseError::LockProtocolMismatch)) => {
            Err(BusError::Locked { path: path.to_owned() })
        }
        Ok(Err(DatabaseError::Storage(StorageError::Corrupted(message)))) => Err(BusError::Damaged {
            path: path.to_owned(),
            detail: format!("it cannot be opened: {message}"),
        }),
        Ok(Err(e)) => Err(BusError::Open {
            path: path.to_owned(),
            reason: e.to_string(),
        }),
        Err(panic) => Err(BusError::Damaged {
            path: path.to_owned(),
            detail: format!(
                "it cannot be opened: the storage library failed with '{}'",
                panic_text(&*panic)
            ),
        }),
    }
}

/// Opens `path` and checks its integrity; a damaged file is refused with
/// [`BusError::Damaged`] saying where the damage is.
pub(super) fn open_checked(path: &Path) -> Result<Database, BusError> {
    let started = Instant::now();
    let mut db = open_database(path)?;
    let checked = catch_unwind(AssertUnwindSafe(|| db.check_integrity()));
    let problem = match checked {
        Ok(Ok(true)) => {
            tracing::debug!(path = %path.display(), elapsed_ms = started.elapsed().as_millis() as u64, "local bus integrity check passed");
            return Ok(db);
        }
        Ok(Ok(false)) => {
            tracing::warn!(
                path = %path.display(),
                "local bus: the integrity check found damage that the storage library repaired by going back to the \
                 last intact commit; events appended in the commit that was lost are gone (their senders were \
                 answered 200)"
            );
            return Ok(db);
        }
        Ok(Err(e)) => e.to_string(),
        Err(panic) => format!("the storage library failed with '{}'", panic_text(&*panic)),
    };
    drop(db);
    let location = locate(path);
    Err(BusError::Damaged {
        path: path.to_owned(),
        detail: format!("its integrity check failed ({problem}); {location}"),
    })
}

/// Reads every table of the damaged file and says what can be read and
/// where reading stops.
fn locate(path: &Path) -> String {
    let scanned = catch_unwind(|| -> Result<String, String> {
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| e.to_string())?;
        let txn = db.begin_read().map_err(|e| e.to_string())?;
        let mut found = Vec::new();
        found.push(scan_events(&txn));
        for (name, result) in [
            ("consumer positions", count(&txn, ACKS)),
            ("idempotency keys", count(&txn, KEYS)),
            ("bookkeeping", count(&txn, META)),
            ("checkpoints", count(&txn, CHECKPOINTS)),
        ] {
            if let Err(e) = result {
                found.push(format!("the {name} table cannot be read ({e})"));
            }
        }
        if let Err(e) = scan_dead_letters(&txn) {
            found.push(format!("the dead letters cannot be read ({e})"));
        }
        Ok(found.join("; "))
    });
    match scanned {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => format!("reading it table by table is not possible either ({e})"),
        Err(panic) => format!(
            "reading it table by table is not possible either (the storage library failed with '{}')",
            panic_text(&*panic)
        ),
    }
}

/// Reads the events in order; says how many read back and where it stopped.
fn scan_events(txn: &redb::ReadTransaction) -> String {
    let mut readable = 0u64;
    let mut last: Option<u64> = None;
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<(), String> {
        let table = txn.open_table(EVENTS).map_err(|e| e.to_string())?;
        for entry in table.range::<u64>(..).map_err(|e| e.to_string())? {
            let (key, value) = entry.map_err(|e| e.to_string())?;
            let offset = key.value();
            serde_json::from_slice::<CloudEvent>(value.value())
                .map_err(|e| format!("the event at offset {offset} is not the JSON the bus wrote: {e}"))?;
            readable += 1;
            last = Some(offset);
        }
        Ok(())
    }));
    let after = match last {
        Some(offset) => format!("after offset {offset}"),
        None => "at the first event".to_owned(),
    };
    match outcome {
        Ok(Ok(())) => format!("all {readable} events read back, so the damage is outside the events"),
        Ok(Err(e)) => format!("{readable} events read back, then reading stops {after}: {e}"),
        Err(panic) => format!(
            "{readable} events read back, then reading stops {after}: the storage library failed with '{}'",
            panic_text(&*panic)
        ),
    }
}

fn count<K: redb::Key + 'static, V: redb::Value + 'static>(
    txn: &redb::ReadTransaction,
    table: redb::TableDefinition<'_, K, V>,
) -> Result<u64, String> {
    catch_unwind(AssertUnwindSafe(|| -> Result<u64, String> {
        let table = txn.open_table(table).map_err(|e| e.to_string())?;
        let mut rows = 0;
        for entry in table.iter().map_err(|e| e.to_string())? {
            entry.map_err(|e| e.to_string())?;
            rows += 1;
        }
        Ok(rows)
    }))
    .unwrap_or_else(|panic| Err(format!("the storage library failed with '{}'", panic_text(&*panic))))
}

fn scan_dead_letters(txn: &redb::ReadTransaction) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| -> Result<(), String> {
        let table = txn.open_table(DEAD).map_err(|e| e.to_string())?;
        for entry in table.iter().map_err(|e| e.to_string())? {
            let (key, value) = entry.map_err(|e| e.to_string())?;
            let (consumer, offset) = key.value();
            serde_json::from_slice::<super::store::StoredDeadLetter>(value.value())
                .map_err(|e| format!("consumer '{consumer}', offset {offset}: {e}"))?;
        }
        Ok(())
    }))
    .unwrap_or_else(|panic| Err(format!("the storage library failed with '{}'", panic_text(&*panic))))
}
