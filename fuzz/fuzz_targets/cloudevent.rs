//! CloudEvents as delivered (`CloudEvent::from_json`, then `validate`) and as
//! read back from the journal (records are stored as CloudEvent JSON and
//! decoded with serde): no panic, and an accepted event survives a round trip.
#![no_main]

use commerce_kit_model::CloudEvent;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(event) = CloudEvent::from_json(bytes) {
        let _ = event.validate();
        let _ = (event.event_id(), event.recipient_client_id());
        let again = serde_json::to_vec(&event).expect("an accepted event serializes");
        let back = CloudEvent::from_json(&again).expect("a serialized event parses again");
        assert_eq!(back, event);
    }
    // The journal's decoding of a stored record.
    let _ = serde_json::from_slice::<CloudEvent>(bytes);
});
