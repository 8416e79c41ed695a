//! The spool in Exim 4.96's layout: `input/<id>-H` (envelope and
//! headers), `input/<id>-D` (body), `msglog/<id>`; message ids; the queue
//! listing (`-bp`) and removal (`-Mrm`).

pub mod message_id;
pub mod queue;
pub mod write;
pub mod writer;

pub use message_id::{IdGenerator, MESSAGE_ID_LENGTH};
pub use write::{write_message, SpoolError, SpoolMessage};
pub use writer::SpoolWriter;
