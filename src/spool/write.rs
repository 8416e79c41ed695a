//! Writing a received message to the spool, durably, before it is
//! acknowledged: the -D file first, then the -H file, written unnamed (or
//! under Exim's temporary name) and linked (renamed) into place, each
//! fsynced, then the directory.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// A header line as the -H file keeps it: Exim's one-letter type flag
/// (`P` Received, `I` Message-Id, `F` From, `T` To, ... or space) and the
/// full text including the final newline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolHeader {
    pub flag: char,
    pub text: String,
}

/// Everything the -H file records about a message.
#[derive(Debug, Clone, Default)]
pub struct SpoolMessage {
    pub id: String,
    pub originator_login: String,
    pub originator_uid: u32,
    pub originator_gid: u32,
    pub sender: String,
    pub received_time: (u64, u32),
    pub received_time_complete: (u64, u32),
    pub helo_name: Option<String>,
    /// `[ip]:port`
    pub host_address: Option<String>,
    /// The address came from the command line (-oMa): Exim marks the
    /// line as tainted with a second '-'.
    pub host_address_tainted: bool,
    pub host_name: Option<String>,
    pub interface_address: Option<String>,
    pub ident: Option<String>,
    pub received_protocol: String,
    pub active_hostname: Option<String>,
    pub auth_id: Option<String>,
    pub auth_sender: Option<String>,
    pub host_auth: Option<String>,
    pub host_auth_pubname: Option<String>,
    pub tls_cipher: Option<String>,
    pub tls_ver: Option<String>,
    pub tls_peerdn: Option<String>,
    pub tls_peercert: Option<String>,
    pub tls_ourcert: Option<String>,
    pub tls_sni: Option<String>,
    pub tls_certificate_verified: bool,
    pub body_linecount: u64,
    pub max_received_linelength: usize,
    pub allow_unqualified: bool,
    /// Local input from an untrusted caller (Exim's `-local`): its
    /// `auth_id` is the caller's login, not data from a client.
    pub local: bool,
    /// The envelope sender was chosen by an untrusted caller (`-bp`
    /// shows the caller's login after it).
    pub sender_set_untrusted: bool,
    pub smtputf8: bool,
    /// DSN: ENVID as received, RET as Exim's number (1 FULL, 2 HDRS).
    pub dsn_envid: Option<String>,
    pub dsn_ret: Option<String>,
    pub recipients: Vec<String>,
    /// NOTIFY and ORCPT of each recipient (missing ones: none given).
    pub recipients_dsn: Vec<crate::dsn::RcptDsn>,
    /// `control = freeze` in an ACL: `-frozen` with the time of arrival.
    pub frozen: bool,
    /// `queue =` in an ACL: the named queue (logged as Q=; the message
    /// is still written to the default queue's directory).
    pub queue_name: Option<String>,
    pub headers: Vec<SpoolHeader>,
    /// The body with LF line ends.
    pub body: Vec<u8>,
}

#[derive(Debug)]
pub struct SpoolError(pub String);

impl std::fmt::Display for SpoolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl SpoolMessage {
    /// The text of the -H file.
    pub fn header_file(&self) -> String {
        let mut h = String::new();
        let line = |h: &mut String, s: &str| {
            h.push_str(s);
            h.push('\n');
        };
        line(&mut h, &format!("{}-H", self.id));
        line(&mut h, &format!("{} {} {}", self.originator_login, self.originator_uid, self.originator_gid));
        line(&mut h, &format!("<{}>", self.sender));
        line(&mut h, &format!("{} 0", self.received_time.0));
        line(&mut h, &format!("-received_time_usec .{:06}", self.received_time.1));
        line(&mut h, &format!("-received_time_complete {}.{:06}", self.received_time_complete.0, self.received_time_complete.1));
        if let Some(v) = &self.helo_name {
            line(&mut h, &format!("--helo_name {v}"));
        }
        if let Some(v) = &self.host_address {
            let taint = if self.host_address_tainted { "-" } else { "" };
            line(&mut h, &format!("{taint}-host_address {v}"));
        }
        if let Some(v) = &self.host_name {
            line(&mut h, &format!("-host_name {v}"));
        }
        if let Some(v) = &self.host_auth {
            line(&mut h, &format!("-host_auth {v}"));
        }
        if let Some(v) = &self.host_auth_pubname {
            line(&mut h, &format!("-host_auth_pubname {v}"));
        }
        if let Some(v) = &self.interface_address {
            line(&mut h, &format!("-interface_address {v}"));
        }
        if let Some(v) = &self.active_hostname {
            line(&mut h, &format!("-active_hostname {v}"));
        }
        if let Some(v) = &self.ident {
            line(&mut h, &format!("-ident {v}"));
        }
        line(&mut h, &format!("-received_protocol {}", self.received_protocol));
        line(&mut h, &format!("-body_linecount {}", self.body_linecount));
        line(&mut h, &format!("-max_received_linelength {}", self.max_received_linelength));
        // Values from the client are tainted: Exim marks them with "--".
        if let Some(v) = &self.auth_id {
            line(&mut h, &format!("{}auth_id {v}", if self.local { "-" } else { "--" }));
        }
        if let Some(v) = &self.auth_sender {
            line(&mut h, &format!("--auth_sender {v}"));
        }
        if self.allow_unqualified {
            line(&mut h, "-allow_unqualified_recipient");
            line(&mut h, "-allow_unqualified_sender");
        }
        line(&mut h, "-deliver_firsttime");
        if self.frozen {
            line(&mut h, &format!("-frozen {}", self.received_time.0));
        }
        if self.local {
            line(&mut h, "-local");
        }
        if self.sender_set_untrusted {
            line(&mut h, "-sender_set_untrusted");
        }
        if let Some(v) = &self.dsn_envid {
            line(&mut h, &format!("-dsn_envid {v}"));
        }
        if let Some(v) = &self.dsn_ret {
            line(&mut h, &format!("-dsn_ret {v}"));
        }
        if self.smtputf8 {
            line(&mut h, "-smtputf8");
        }
        if let Some(v) = &self.tls_certificate_verified.then_some(()) {
            let _ = v;
            line(&mut h, "-tls_certificate_verified");
        }
        if let Some(v) = &self.tls_cipher {
            line(&mut h, &format!("-tls_cipher {v}"));
        }
        // Certificates are PEM with each newline written as "\n".
        if let Some(v) = &self.tls_peercert {
            line(&mut h, &format!("--tls_peercert {}", v.replace('\n', "\\n")));
        }
        if let Some(v) = &self.tls_peerdn {
            line(&mut h, &format!("--tls_peerdn {v}"));
        }
        if let Some(v) = &self.tls_ourcert {
            line(&mut h, &format!("-tls_ourcert {}", v.replace('\n', "\\n")));
        }
        // A: no TLS; B: TLS without session resumption.
        line(&mut h, if self.tls_cipher.is_some() { "-tls_resumption B" } else { "-tls_resumption A" });
        if let Some(v) = &self.tls_sni {
            line(&mut h, &format!("-tls_sni {v}"));
        }
        if let Some(v) = &self.tls_ver {
            line(&mut h, &format!("-tls_ver {v}"));
        }
        // No non-recipients yet: an empty tree.
        line(&mut h, "XX");
        line(&mut h, &self.recipients.len().to_string());
        let none = crate::dsn::RcptDsn::default();
        for (i, r) in self.recipients.iter().enumerate() {
            line(&mut h, &crate::dsn::recipient_line(r, self.recipients_dsn.get(i).unwrap_or(&none), None, -1));
        }
        h.push('\n');
        for hd in &self.headers {
            // The length is in bytes (crate::bytes).
            h.push_str(&format!("{:03}{} {}", crate::bytes::to_bytes(&hd.text).len(), hd.flag, hd.text));
        }
        h
    }

    /// Message size as Exim counts it: headers, the blank line, the body.
    pub fn size(&self) -> usize {
        self.headers.iter().filter(|h| h.flag != '*').map(|h| crate::bytes::to_bytes(&h.text).len()).sum::<usize>() + 1 + self.body.len()
    }
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> SpoolError {
    SpoolError(format!("{what} {}: {}", path.display(), crate::texts::errno_text(&e)))
}

fn ensure_dir(path: &Path) -> Result<(), SpoolError> {
    if !path.is_dir() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o750)
            .create(path)
            .map_err(|e| io_err("failed to create directory", path, e))?;
    }
    Ok(())
}

use std::os::unix::fs::DirBuilderExt;

/// One message on its way to disk.
struct Pending<'a> {
    msg: &'a SpoolMessage,
    input: PathBuf,
    data: PathBuf,
    /// Exim's temporary name for the -H file, used where the file system
    /// has no unnamed files.
    temp: PathBuf,
    /// The -D file, then the -H file.
    files: Vec<File>,
    /// The -H file is unnamed (O_TMPFILE) until linked into place.
    header_unnamed: bool,
    result: Result<(), SpoolError>,
}

impl Pending<'_> {
    fn fail(&mut self, e: SpoolError) {
        let _ = std::fs::remove_file(&self.temp);
        let _ = std::fs::remove_file(&self.data);
        self.files.clear();
        if self.result.is_ok() {
            self.result = Err(e);
        }
    }
}

fn create_new(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o640).open(path)
}

/// Create `path` with the parts written, in one system call where the
/// kernel takes it all. A missing directory is made and the create tried
/// again, as Exim does: checking for it on every message would cost a
/// system call each time.
fn create_written(path: &Path, parts: &[&[u8]]) -> Result<File, SpoolError> {
    let created = match create_new(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match path.parent() {
            Some(dir) => ensure_dir(dir).and_then(|()| create_new(path).map_err(|e| io_err("failed to create", path, e))),
            None => Err(io_err("failed to create", path, e)),
        },
        other => other.map_err(|e| io_err("failed to create", path, e)),
    };
    let mut f = created?;
    if let Err(e) = write_all_parts(&mut f, parts) {
        let _ = std::fs::remove_file(path);
        return Err(io_err("failed to write", path, e));
    }
    Ok(f)
}

fn write_all_parts(f: &mut File, parts: &[&[u8]]) -> std::io::Result<()> {
    let mut slices: Vec<std::io::IoSlice> = parts.iter().map(|p| std::io::IoSlice::new(p)).collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match f.write_vectored(rest) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => std::io::IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The -H file's text in a file with no name yet (O_TMPFILE) in `dir`:
/// linking it into place once it is synced costs fewer directory
/// operations than Exim's temporary name and rename, and a crash leaves
/// no temporary file behind. `None` where the file system cannot.
fn create_unnamed(dir: &Path, text: &[u8]) -> Option<std::io::Result<File>> {
    #[cfg(target_os = "linux")]
    {
        let mut f = match std::fs::OpenOptions::new().write(true).custom_flags(libc::O_TMPFILE).mode(0o640).open(dir) {
            Ok(f) => f,
            Err(_) => return None,
        };
        Some(f.write_all(text).map(|()| f))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (dir, text);
        None
    }
}

/// Give a synced unnamed file its name. Kernels before 6.10 refuse the
/// direct way to a process without CAP_DAC_READ_SEARCH (one not running
/// as root); the link then goes through /proc, and the direct way, once
/// refused, is not tried again.
fn link_unnamed(f: &File, to: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::sync::atomic::{AtomicBool, Ordering};
    static EMPTY_PATH_REFUSED: AtomicBool = AtomicBool::new(false);
    let to = CString::new(to.as_os_str().as_bytes())?;
    if !EMPTY_PATH_REFUSED.load(Ordering::Relaxed) {
        // SAFETY: valid descriptor and NUL-terminated paths.
        if unsafe { libc::linkat(f.as_raw_fd(), c"".as_ptr(), libc::AT_FDCWD, to.as_ptr(), libc::AT_EMPTY_PATH) } == 0 {
            return Ok(());
        }
        // The kernel's answer to a caller without the capability.
        let e = std::io::Error::last_os_error();
        if matches!(e.raw_os_error(), Some(libc::EPERM) | Some(libc::ENOENT)) {
            EMPTY_PATH_REFUSED.store(true, Ordering::Relaxed);
        } else {
            return Err(e);
        }
    }
    let proc_path = CString::new(format!("/proc/self/fd/{}", f.as_raw_fd()))?;
    // SAFETY: as above.
    if unsafe { libc::linkat(libc::AT_FDCWD, proc_path.as_ptr(), libc::AT_FDCWD, to.as_ptr(), libc::AT_SYMLINK_FOLLOW) } == 0 {
        return Ok(());
    }
    Err(std::io::Error::last_os_error())
}

/// Exim's way: the -H text under a temporary name, synced. A temporary
/// file left by a crash is replaced, as Exim does; the common case costs
/// no unlink.
fn create_temp(temp: &Path, text: &[u8]) -> Result<File, SpoolError> {
    create_written(temp, &[text]).or_else(|_| {
        let _ = std::fs::remove_file(temp);
        create_written(temp, &[text])
    })
}

/// When an unnamed -H file cannot be linked (a stale -H file of the same
/// name, which Exim's rename replaces; no /proc), Exim's way instead.
fn rename_synced_temp(msg: &SpoolMessage, temp: &Path, header: &Path) -> Result<(), SpoolError> {
    let text = crate::bytes::into_bytes(msg.header_file());
    let f = create_temp(temp, &text)?;
    f.sync_all().map_err(|e| io_err("failed to sync", temp, e))?;
    std::fs::rename(temp, header).map_err(|e| io_err("failed to rename", temp, e))
}

/// Start writing the file's data back now, so that the fsyncs of a batch
/// wait for writes already under way instead of issuing them one by one.
/// Only a hint: the fsync that follows is what makes the data durable.
fn start_writeback(f: &File) {
    #[cfg(target_os = "linux")]
    // SAFETY: a valid open descriptor; the call only schedules I/O.
    unsafe {
        libc::sync_file_range(f.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = f;
}

/// Threads that run fsyncs for `sync_all_at_once`. Each fsync ends with
/// a cache flush of the device; the block layer merges flushes that are
/// waiting together, so fsyncs issued at once cost about one flush
/// instead of one each.
const SYNC_THREADS: usize = 15;

/// An fsync to run: the descriptor (kept open by the caller until the
/// answer arrives), the file's index, where to answer.
type SyncRequest = (std::os::unix::io::RawFd, usize, std::sync::mpsc::Sender<(usize, std::io::Result<()>)>);

/// The long-lived fsync threads (started on first use).
fn sync_pool() -> Option<&'static std::sync::Mutex<std::sync::mpsc::Sender<SyncRequest>>> {
    static POOL: std::sync::OnceLock<Option<std::sync::Mutex<std::sync::mpsc::Sender<SyncRequest>>>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<SyncRequest>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        let mut started = 0;
        for _ in 0..SYNC_THREADS {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new().name("spool-fsync".into()).spawn(move || loop {
                let Ok((fd, i, answer)) = rx.lock().unwrap_or_else(|e| e.into_inner()).recv() else { return };
                // SAFETY: the caller keeps `fd` open until it has our answer.
                let r = if unsafe { libc::fsync(fd) } == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) };
                let _ = answer.send((i, r));
            });
            started += usize::from(spawned.is_ok());
        }
        (started > 0).then(|| std::sync::Mutex::new(tx))
    })
    .as_ref()
}

/// fsync every file, all at once; the files that failed.
fn sync_all_at_once(files: &[(&File, &Path)]) -> Vec<(PathBuf, SpoolError)> {
    let failed = |i: usize, e: std::io::Error| (files[i].1.to_path_buf(), io_err("failed to sync", files[i].1, e));
    let mut results: Vec<Option<std::io::Result<()>>> = files.iter().map(|_| None).collect();
    let (answer, answers) = std::sync::mpsc::channel();
    let mut asked = 0;
    if let (Some(pool), true) = (sync_pool(), files.len() > 1) {
        let pool = pool.lock().unwrap_or_else(|e| e.into_inner());
        for (i, (f, _)) in files.iter().enumerate().skip(1) {
            if pool.send((f.as_raw_fd(), i, answer.clone())).is_ok() {
                asked += 1;
            }
        }
    }
    drop(answer);
    // This thread syncs the first file, and any the pool did not take.
    if let (Some(slot), Some((f, _))) = (results.first_mut(), files.first()) {
        *slot = Some(f.sync_all());
    }
    for _ in 0..asked {
        match answers.recv() {
            Ok((i, r)) => results[i] = Some(r),
            Err(_) => break,
        }
    }
    results
        .into_iter()
        .enumerate()
        .filter_map(|(i, r)| match r {
            Some(Ok(())) => None,
            Some(Err(e)) => Some(failed(i, e)),
            None => files[i].0.sync_all().err().map(|e| failed(i, e)),
        })
        .collect()
}

/// Write the message to `spool_directory`; when this returns Ok the
/// message survives a crash.
pub fn write_message(spool_directory: &str, msg: &SpoolMessage, msglog_line: &str) -> Result<(), SpoolError> {
    let result = write_messages(&[(spool_directory, msg)]).pop().unwrap_or(Ok(()));
    if result.is_ok() {
        write_msglog(spool_directory, &msg.id, msglog_line);
    }
    result
}

/// Write several messages at once (group commit). Each result is Ok only
/// when that message's -D and -H files and its directory entries are on
/// disk: Exim's order per message (-D synced before the -H name exists,
/// the -H synced before it is linked into place, the directory synced),
/// with the I/O of the whole batch overlapped and one directory
/// fsync for all of it. Message logs are left to `write_msglog`.
pub fn write_messages(batch: &[(&str, &SpoolMessage)]) -> Vec<Result<(), SpoolError>> {
    let mut pending: Vec<Pending> = batch
        .iter()
        .map(|(spool, msg)| {
            let input = Path::new(spool).join("input");
            Pending {
                msg,
                data: input.join(format!("{}-D", msg.id)),
                temp: input.join(format!("hdr.{}", msg.id)),
                input,
                files: Vec::new(),
                header_unnamed: false,
                result: Ok(()),
            }
        })
        .collect();
    for p in &mut pending {
        let first = format!("{}-D\n", p.msg.id);
        match create_written(&p.data, &[first.as_bytes(), &p.msg.body]) {
            Ok(f) => p.files.push(f),
            // Not ours to remove: a -D file of this name was there.
            Err(e) => {
                p.result = Err(e);
                continue;
            }
        }
        let text = crate::bytes::into_bytes(p.msg.header_file());
        match create_unnamed(&p.input, &text) {
            Some(Ok(f)) => {
                p.files.push(f);
                p.header_unnamed = true;
            }
            Some(Err(e)) => p.fail(io_err("failed to write", &p.temp, e)),
            None => match create_temp(&p.temp, &text) {
                Ok(f) => p.files.push(f),
                Err(e) => p.fail(e),
            },
        }
    }
    for f in pending.iter().flat_map(|p| &p.files) {
        start_writeback(f);
    }
    let files: Vec<(&File, &Path)> =
        pending.iter().flat_map(|p| p.files.iter().zip([p.data.as_path(), p.temp.as_path()])).collect();
    let mut failures = sync_all_at_once(&files);
    drop(files);
    for p in &mut pending {
        if p.result.is_err() {
            continue;
        }
        if let Some(i) = failures.iter().position(|(path, _)| *path == p.data || *path == p.temp) {
            let (_, e) = failures.swap_remove(i);
            p.fail(e);
            continue;
        }
        let header = p.input.join(format!("{}-H", p.msg.id));
        let placed = match p.files.get(1) {
            Some(f) if p.header_unnamed => link_unnamed(f, &header).or_else(|_| rename_synced_temp(p.msg, &p.temp, &header)),
            _ => std::fs::rename(&p.temp, &header).map_err(|e| io_err("failed to rename", &p.temp, e)),
        };
        p.files.clear();
        if let Err(e) = placed {
            p.fail(e);
        }
    }
    let mut synced_dirs: Vec<(PathBuf, Result<(), String>)> = Vec::new();
    for p in &mut pending {
        if p.result.is_err() {
            continue;
        }
        let r = match synced_dirs.iter().find(|(d, _)| *d == p.input) {
            Some((_, r)) => r.clone(),
            None => {
                let r = sync_dir(&p.input).map_err(|e| e.0);
                synced_dirs.push((p.input.clone(), r.clone()));
                r
            }
        };
        p.result = r.map_err(SpoolError);
    }
    pending.into_iter().map(|p| p.result).collect()
}

/// The message log's first line. It is informational: failing to write
/// it does not lose mail, so it is not synced and errors are ignored.
pub fn write_msglog(spool_directory: &str, id: &str, msglog_line: &str) {
    let stamp = chrono::Local::now().format("%Y-%m-%d %H:%M:%S");
    let dir = Path::new(spool_directory).join("msglog");
    let log_path = dir.join(id);
    let open = || std::fs::OpenOptions::new().create(true).append(true).mode(0o640).open(&log_path);
    let opened = match open() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => ensure_dir(&dir).map_err(|_| e).and_then(|()| open()),
        other => other,
    };
    let _ = opened.and_then(|mut f| f.write_all(format!("{stamp} {msglog_line}\n").as_bytes()));
}

fn sync_dir(dir: &Path) -> Result<(), SpoolError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io_err("failed to sync", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_file_layout() {
        let m = SpoolMessage {
            id: "1xUz7r-0005vN-0X".into(),
            originator_login: "root".into(),
            sender: "a@b.c".into(),
            received_time: (1795321467, 166041),
            received_time_complete: (1795321467, 167350),
            helo_name: Some("foo.bar".into()),
            ident: Some("root".into()),
            received_protocol: "local-esmtp".into(),
            body_linecount: 1,
            max_received_linelength: 11,
            allow_unqualified: true,
            recipients: vec!["x@y.z".into()],
            headers: vec![SpoolHeader { flag: ' ', text: "Subject: hi\n".into() }],
            body: b"body\n".to_vec(),
            ..Default::default()
        };
        let h = m.header_file();
        assert!(h.starts_with("1xUz7r-0005vN-0X-H\nroot 0 0\n<a@b.c>\n1795321467 0\n-received_time_usec .166041\n"));
        assert!(h.ends_with("-tls_resumption A\nXX\n1\nx@y.z\n\n012  Subject: hi\n"));
        assert_eq!(m.size(), 12 + 1 + 5);
        // A recipient with NOTIFY gets Exim's extended line.
        let m = SpoolMessage {
            recipients: vec!["x@y.z".into(), "w@y.z".into()],
            recipients_dsn: vec![crate::dsn::RcptDsn { dsn_flags: crate::dsn::RF_NOTIFY_SUCCESS, orcpt: Some("rfc822;X@y.z".into()) }],
            ..Default::default()
        };
        assert!(m.header_file().contains("XX\n2\nx@y.z rfc822;X@y.z 12,4  0,-1#3\nw@y.z\n"));
    }

    #[test]
    fn batch_each_message_its_own_outcome() {
        let dir = std::env::temp_dir().join(format!("rexim-spool-batch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let spool = dir.to_str().unwrap();
        let msg = |id: &str| SpoolMessage {
            id: id.into(),
            sender: "a@b.c".into(),
            received_protocol: "esmtp".into(),
            recipients: vec!["x@y.z".into()],
            headers: vec![SpoolHeader { flag: ' ', text: "Subject: hi\n".into() }],
            body: b"body\n".to_vec(),
            ..Default::default()
        };
        let (a, b) = (msg("1xUz7r-0005vN-0X"), msg("1xUz7r-0005vN-0Y"));
        // A -D file already there: that message fails, the other is written.
        std::fs::create_dir_all(dir.join("input")).unwrap();
        std::fs::write(dir.join("input/1xUz7r-0005vN-0X-D"), "old").unwrap();
        // A -H file left by a crash without its -D file is replaced, as
        // Exim's rename does.
        std::fs::write(dir.join("input/1xUz7r-0005vN-0Y-H"), "stale").unwrap();
        let results = write_messages(&[(spool, &a), (spool, &b)]);
        assert!(results[0].as_ref().unwrap_err().0.starts_with("failed to create "));
        assert!(results[1].is_ok());
        assert_eq!(std::fs::read_to_string(dir.join("input/1xUz7r-0005vN-0X-D")).unwrap(), "old");
        assert!(!dir.join("input/1xUz7r-0005vN-0X-H").exists());
        assert_eq!(std::fs::read_to_string(dir.join("input/1xUz7r-0005vN-0Y-D")).unwrap(), "1xUz7r-0005vN-0Y-D\nbody\n");
        assert_eq!(std::fs::read_to_string(dir.join("input/1xUz7r-0005vN-0Y-H")).unwrap(), b.header_file());
        assert!(!dir.join("input/hdr.1xUz7r-0005vN-0Y").exists());
        write_msglog(spool, &b.id, "Received from a@b.c");
        assert!(std::fs::read_to_string(dir.join("msglog/1xUz7r-0005vN-0Y")).unwrap().ends_with(" Received from a@b.c\n"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn unnamed_header_linked_once() {
        let dir = std::env::temp_dir().join(format!("rexim-spool-unnamed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let Some(made) = create_unnamed(&dir, b"text\n") else {
            eprintln!("no O_TMPFILE here: the named way is used");
            return;
        };
        let f = made.unwrap();
        // Nothing is in the directory before the link.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        link_unnamed(&f, &dir.join("x-H")).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("x-H")).unwrap(), "text\n");
        // A name already taken is an error (the writer then goes Exim's way).
        let again = link_unnamed(&f, &dir.join("x-H")).unwrap_err();
        assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn named_way_replaces_stale_files() {
        let dir = std::env::temp_dir().join(format!("rexim-spool-named-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let input = dir.join("input");
        let msg = SpoolMessage { id: "1xUz7r-0005vN-0Z".into(), sender: "a@b.c".into(), ..Default::default() };
        let (temp, header) = (input.join("hdr.1xUz7r-0005vN-0Z"), input.join("1xUz7r-0005vN-0Z-H"));
        // The directory is made when missing.
        rename_synced_temp(&msg, &temp, &header).unwrap();
        assert_eq!(std::fs::read_to_string(&header).unwrap(), msg.header_file());
        // A temporary file and a -H file left by a crash are replaced.
        std::fs::write(&temp, "stale").unwrap();
        std::fs::write(&header, "stale").unwrap();
        rename_synced_temp(&msg, &temp, &header).unwrap();
        assert_eq!(std::fs::read_to_string(&header).unwrap(), msg.header_file());
        assert!(!temp.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
