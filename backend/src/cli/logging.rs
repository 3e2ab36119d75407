//! The server's log: one line per event (one per request among them) on stdout, plain
//! text or JSON lines (`QBR_LOG_FORMAT=json`).
//!
//! A request only formats its line and appends it to a shared buffer (a lock and a
//! copy); a writer thread writes the buffer every [`FLUSH_EVERY`], or at once when
//! [`FLUSH_AT`] bytes wait. So the log costs a request no system call and wakes no
//! thread: at a thousand requests a second the lines go out in ten writes, not a
//! thousand. Nothing is dropped. Dropping the [`LogGuard`] writes what is left.
//!
//! A logged value can hold anything a client sent (an email, a key name, a message):
//! in text lines every control character of a field is escaped (`\n`, `\u{1b}`), so no
//! value can forge a line or a terminal sequence; JSON lines are escaped by JSON.
use std::fmt;
use std::io::Write;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tracing::field::Field;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::format::{self, Writer};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// Longest a line waits in the buffer.
const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Bytes that make the writer thread write at once.
const FLUSH_AT: usize = 64 * 1024;

#[derive(Default)]
struct Buffer {
    bytes: Vec<u8>,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    buffer: Mutex<Buffer>,
    /// Signalled when the buffer passes `FLUSH_AT` or the log closes.
    full: Condvar,
}

/// Where the subscriber writes: the shared buffer.
#[derive(Clone)]
pub struct BatchWriter {
    shared: Arc<Shared>,
}

impl Write for BatchWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        // A poisoned lock only means a panic while appending: keep logging.
        let mut buffer = self
            .shared
            .buffer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        buffer.bytes.extend_from_slice(data);
        if buffer.bytes.len() >= FLUSH_AT {
            self.shared.full.notify_one();
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchWriter {
    type Writer = BatchWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Installs the process's subscriber: text or JSON lines through `writer`, filtered by
/// `filter`, colours only for a person at a terminal.
pub fn install<W>(filter: EnvFilter, json: bool, ansi: bool, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    use tracing_subscriber::util::SubscriberInitExt;
    subscriber(filter, json, ansi, writer).init();
}

/// The subscriber [`install`] installs (tests use it with their own writer).
pub fn subscriber<W>(
    filter: EnvFilter,
    json: bool,
    ansi: bool,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    if json {
        Box::new(builder.json().finish())
    } else {
        Box::new(
            builder
                .fmt_fields(format::debug_fn(escaped_field).delimited(" "))
                .finish(),
        )
    }
}

/// Writes one field of a text line, `name=value` (the message bare), its control
/// characters escaped.
fn escaped_field(writer: &mut Writer<'_>, field: &Field, value: &dyn fmt::Debug) -> fmt::Result {
    use fmt::Write as _;
    let mut out = Escaping(writer);
    match field.name() {
        "message" => write!(out, "{value:?}"),
        name => write!(out, "{}={value:?}", name.trim_start_matches("r#")),
    }
}

/// A `fmt::Write` that writes control characters as escapes.
struct Escaping<'w, 'a>(&'w mut Writer<'a>);

impl fmt::Write for Escaping<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some(at) = rest.find(char::is_control) {
            self.0.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().unwrap_or_default();
            match c {
                '\n' => self.0.write_str("\\n")?,
                '\r' => self.0.write_str("\\r")?,
                '\t' => self.0.write_str("\\t")?,
                c => write!(self.0, "\\u{{{:x}}}", u32::from(c))?,
            }
            rest = &rest[at + c.len_utf8()..];
        }
        self.0.write_str(rest)
    }
}

/// Keeps the writer thread; dropping it writes the last lines and stops the thread.
pub struct LogGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        if let Ok(mut buffer) = self.shared.buffer.lock() {
            buffer.closed = true;
        }
        self.shared.full.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A writer for the subscriber and the guard of its thread, writing to `out`.
pub fn batch_writer(mut out: impl Write + Send + 'static) -> (BatchWriter, LogGuard) {
    let shared = Arc::new(Shared::default());
    let thread_shared = shared.clone();
    let thread = std::thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || write_batches(&thread_shared, &mut out))
        .ok();
    (
        BatchWriter {
            shared: shared.clone(),
        },
        LogGuard { shared, thread },
    )
}

/// The writer thread: takes what has accumulated and writes it, until closed.
fn write_batches(shared: &Shared, out: &mut impl Write) {
    let mut batch = Vec::new();
    loop {
        let closed = {
            let Ok(buffer) = shared.buffer.lock() else {
                return;
            };
            let (mut buffer, _) = shared
                .full
                .wait_timeout_while(buffer, FLUSH_EVERY, |b| {
                    b.bytes.len() < FLUSH_AT && !b.closed
                })
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            std::mem::swap(&mut batch, &mut buffer.bytes);
            buffer.closed
        };
        if !batch.is_empty() {
            // Nowhere to report a failed log write but the log itself.
            let _ = out.write_all(&batch).and_then(|()| out.flush());
            batch.clear();
        }
        if closed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects what the writer thread writes, and counts its writes.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Sink {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
            s.0.extend_from_slice(data);
            s.1 += 1;
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_value_cannot_forge_a_line_or_a_terminal_sequence() {
        let sink = Sink::default();
        let (writer, guard) = batch_writer(sink.clone());
        let subscriber = subscriber(EnvFilter::new("info"), false, false, writer);
        tracing::subscriber::with_default(subscriber, || {
            let name = "key\nINFO forged: signed in as admin\u{1b}[2J";
            tracing::info!(name = %name, email = name, "api key created\r\nINFO forged too");
        });
        drop(guard);
        let text = sink.0.lock().map(|s| s.0.clone()).unwrap_or_default();
        let text = String::from_utf8(text).unwrap_or_default();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text}");
        assert!(
            text.contains("api key created\\r\\nINFO forged too")
                && text.contains("name=key\\nINFO forged: signed in as admin\\u{1b}[2J"),
            "{text}"
        );
    }

    #[test]
    fn lines_arrive_whole_in_few_writes_and_none_is_lost() {
        let sink = Sink::default();
        let (writer, guard) = batch_writer(sink.clone());
        for i in 0..1000 {
            let mut w = writer.make_writer();
            w.write_all(format!("line {i}\n").as_bytes())
                .unwrap_or_else(|_| unreachable!());
        }
        drop(guard);
        let (bytes, writes) = sink.0.lock().map(|s| s.clone()).unwrap_or_default();
        let text = String::from_utf8(bytes).unwrap_or_default();
        assert_eq!(text.lines().count(), 1000);
        assert_eq!(text.lines().last(), Some("line 999"));
        assert!(writes < 10, "{writes} writes for 1000 lines");
    }
}
