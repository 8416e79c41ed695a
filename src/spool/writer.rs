//! Group commit for the daemon: writer threads take the messages that are
//! waiting together (`write::write_messages`), so concurrent sessions
//! share the directory fsync and overlap their file I/O, and no session
//! learns that its message is safe before its batch is on disk.

use std::sync::{mpsc, Arc, Mutex};

use super::write::{write_messages, write_msglog, SpoolError, SpoolMessage};

/// More than this many waiting messages are taken in two batches, so the
/// first replies do not wait for an unbounded amount of I/O.
const MAX_BATCH: usize = 64;

/// Called with the message back and the outcome, on a writer thread.
pub type Done = Box<dyn FnOnce(Box<SpoolMessage>, Result<(), SpoolError>) + Send>;

/// A message to spool.
pub struct Job {
    pub spool_directory: String,
    pub msg: Box<SpoolMessage>,
    /// The message log's first line, written after the message is safe.
    pub msglog_line: String,
    pub done: Done,
}

/// A message log line to write: spool directory, message id, text.
type MsglogLine = (String, String, String);

/// The handle through which sessions submit messages; the threads end
/// when the last handle is dropped.
#[derive(Clone)]
pub struct SpoolWriter {
    tx: mpsc::Sender<Job>,
}

impl SpoolWriter {
    /// Start `writers` writer threads (while one waits for its fsyncs,
    /// another creates the next batch's files) and one for message logs
    /// (their directory has a lock of its own).
    pub fn start(writers: usize) -> std::io::Result<SpoolWriter> {
        let (tx, rx) = mpsc::channel::<Job>();
        let (log_tx, log_rx) = mpsc::channel::<MsglogLine>();
        std::thread::Builder::new().name("spool-msglog".into()).spawn(move || {
            for (spool, id, line) in log_rx {
                write_msglog(&spool, &id, &line);
            }
        })?;
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..writers.max(1) {
            let rx = rx.clone();
            let log_tx = log_tx.clone();
            std::thread::Builder::new().name("spool-writer".into()).spawn(move || run(&rx, &log_tx))?;
        }
        Ok(SpoolWriter { tx })
    }

    /// Queue a message; `Err` gives the job back when the writers are gone.
    pub fn submit(&self, job: Job) -> Result<(), Job> {
        self.tx.send(job).map_err(|e| e.0)
    }
}

/// The jobs waiting now, at least one; `None` when no sender is left.
fn take_batch(rx: &Mutex<mpsc::Receiver<Job>>) -> Option<Vec<Job>> {
    let rx = rx.lock().unwrap_or_else(|e| e.into_inner());
    let mut batch = vec![rx.recv().ok()?];
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    Some(batch)
}

fn run(rx: &Mutex<mpsc::Receiver<Job>>, log_tx: &mpsc::Sender<MsglogLine>) {
    while let Some(batch) = take_batch(rx) {
        let items: Vec<(&str, &SpoolMessage)> = batch.iter().map(|j| (j.spool_directory.as_str(), &*j.msg)).collect();
        let results = write_messages(&items);
        drop(items);
        for (job, result) in batch.into_iter().zip(results) {
            let Job { spool_directory, msg, msglog_line, done } = job;
            if result.is_ok() {
                let line = (spool_directory, msg.id.clone(), msglog_line);
                if let Err(mpsc::SendError((spool, id, line))) = log_tx.send(line) {
                    write_msglog(&spool, &id, &line);
                }
            }
            done(msg, result);
        }
    }
}
