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
/// when it is dropped or finished.
pub struct SpoolWriter {
    tx: mpsc::Sender<Job>,
    /// Ends after the writers, once it has written every message log.
    msglog: std::thread::JoinHandle<()>,
}

impl SpoolWriter {
    /// Start `writers` writer threads (while one waits for its fsyncs,
    /// another creates the next batch's files) and one for message logs
    /// (their directory has a lock of its own).
    pub fn start(writers: usize) -> std::io::Result<SpoolWriter> {
        let (tx, rx) = mpsc::channel::<Job>();
        let (log_tx, log_rx) = mpsc::channel::<Vec<MsglogLine>>();
        let msglog = std::thread::Builder::new().name("spool-msglog".into()).spawn(move || {
            for (spool, id, line) in log_rx.into_iter().flatten() {
                write_msglog(&spool, &id, &line);
            }
        })?;
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..writers.max(1) {
            let rx = rx.clone();
            let log_tx = log_tx.clone();
            std::thread::Builder::new().name("spool-writer".into()).spawn(move || run(&rx, &log_tx))?;
        }
        Ok(SpoolWriter { tx, msglog })
    }

    /// Let the writers finish what was submitted and wait until the last
    /// message log is written (the daemon's exit).
    pub fn finish(self) {
        drop(self.tx);
        let _ = self.msglog.join();
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

fn run(rx: &Mutex<mpsc::Receiver<Job>>, log_tx: &mpsc::Sender<Vec<MsglogLine>>) {
    while let Some(batch) = take_batch(rx) {
        let items: Vec<(&str, &SpoolMessage)> = batch.iter().map(|j| (j.spool_directory.as_str(), &*j.msg)).collect();
        let results = write_messages(&items);
        drop(items);
        let mut logs = Vec::with_capacity(batch.len());
        for (job, result) in batch.into_iter().zip(results) {
            let Job { spool_directory, msg, msglog_line, done } = job;
            if result.is_ok() {
                logs.push((spool_directory, msg.id.clone(), msglog_line));
            }
            done(msg, result);
        }
        // One hand-over per batch; written here if that thread is gone.
        if let Err(mpsc::SendError(logs)) = log_tx.send(logs) {
            for (spool, id, line) in logs {
                write_msglog(&spool, &id, &line);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn job(dir: &std::path::Path, id: &str, tx: &mpsc::Sender<(String, Result<(), String>, bool)>) -> Job {
        let tx = tx.clone();
        let input = dir.join("input");
        Job {
            spool_directory: dir.to_str().unwrap().to_string(),
            msg: Box::new(SpoolMessage {
                id: id.into(),
                sender: "a@b.c".into(),
                received_protocol: "esmtp".into(),
                recipients: vec!["x@y.z".into()],
                body: b"body\n".to_vec(),
                ..Default::default()
            }),
            msglog_line: "Received from a@b.c".into(),
            // Whether the -H file is in place when the answer comes.
            done: Box::new(move |m, r| {
                let there = input.join(format!("{}-H", m.id)).exists();
                let _ = tx.send((m.id.clone(), r.map_err(|e| e.0), there));
            }),
        }
    }

    #[test]
    fn answers_each_message_once_its_files_are_in_place() {
        let dir = std::env::temp_dir().join(format!("rexim-spool-writer-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let writer = SpoolWriter::start(2).unwrap();
        let (tx, rx) = mpsc::channel();
        let ids: Vec<String> = (0..20).map(|i| format!("1xUz7r-0005vN-{:02}", i)).collect();
        for id in &ids {
            assert!(writer.submit(job(&dir, id, &tx)).is_ok());
        }
        let mut answered: Vec<String> = (0..ids.len())
            .map(|_| {
                let (id, r, there) = rx.recv_timeout(Duration::from_secs(30)).unwrap();
                assert_eq!(r, Ok(()));
                assert!(there, "{id}: answered before its -H file was in place");
                id
            })
            .collect();
        answered.sort();
        assert_eq!(answered, ids);
        // The same id again: that message fails, the files stay.
        assert!(writer.submit(job(&dir, &ids[0], &tx)).is_ok());
        let (_, r, there) = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        assert!(r.unwrap_err().starts_with("failed to create "));
        assert!(there);
        assert!(dir.join("input").join(format!("{}-D", ids[0])).exists());
        // The message logs come after the answers, all of them by the end.
        writer.finish();
        for id in &ids {
            let msglog = std::fs::read_to_string(dir.join("msglog").join(id)).unwrap();
            assert!(msglog.ends_with(" Received from a@b.c\n"), "{id}: {msglog}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
