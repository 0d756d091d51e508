//! Where log lines wait for stdout. A request appends its line to a shared buffer under a
//! lock held only for the copy; one thread writes the buffer out every `FLUSH_EVERY`, or as
//! soon as it holds `WAKE_AT` bytes. A queue with a blocking receiver (tracing-appender's)
//! woke that thread for every line: on a busy server the wake-ups cost as much CPU as the
//! requests themselves. Should the writer fall `MAX_BUFFERED` behind (a stalled pipe),
//! lines are dropped and counted rather than making a request wait or the heap grow.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long a line may wait: short enough that `journalctl -f` feels live.
const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// A buffer this full is written at once rather than at the next tick.
const WAKE_AT: usize = 64 * 1024;
/// The most that waits; past it lines are dropped.
const MAX_BUFFERED: usize = 4 * 1024 * 1024;

#[derive(Default)]
struct Shared {
    lines: Mutex<Vec<u8>>,
    wake: Condvar,
    closing: AtomicBool,
    dropped: AtomicU64,
}

impl Shared {
    fn lines(&self) -> MutexGuard<'_, Vec<u8>> {
        self.lines.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn append(&self, line: &[u8]) {
        let mut lines = self.lines();
        if lines.len() + line.len() > MAX_BUFFERED {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        lines.extend_from_slice(line);
        if lines.len() >= WAKE_AT {
            self.wake.notify_one();
        }
    }
}

/// The writer the log's subscriber formats into.
#[derive(Clone)]
pub struct Buffered(Arc<Shared>);

/// Writes what is buffered when dropped; keep it until the process ends.
pub struct FlushOnDrop {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// A buffered writer to `out`, and the guard that owns its writing thread.
pub fn buffered<W: Write + Send + 'static>(out: W) -> std::io::Result<(Buffered, FlushOnDrop)> {
    let shared = Arc::new(Shared::default());
    let writing = shared.clone();
    let thread = std::thread::Builder::new().name("hearth-log".into()).spawn(move || write_out(&writing, out))?;
    Ok((Buffered(shared.clone()), FlushOnDrop { shared, thread: Some(thread) }))
}

fn write_out<W: Write>(shared: &Shared, mut out: W) {
    let mut batch = Vec::with_capacity(WAKE_AT);
    loop {
        {
            let mut lines = shared.lines();
            if lines.len() < WAKE_AT && !shared.closing.load(Ordering::Acquire) {
                lines = shared.wake.wait_timeout(lines, FLUSH_EVERY).unwrap_or_else(|p| p.into_inner()).0;
            }
            std::mem::swap(&mut *lines, &mut batch);
        }
        let dropped = shared.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            let _ = writeln!(out, "hearth: {dropped} log lines dropped: the log's reader fell behind");
        }
        if !batch.is_empty() {
            // Nowhere to report a failed write to; the next batch tries again.
            let _ = out.write_all(&batch).and_then(|()| out.flush());
            batch.clear();
            batch.shrink_to(WAKE_AT);
        }
        if shared.closing.load(Ordering::Acquire) && shared.lines().is_empty() {
            return;
        }
    }
}

impl Drop for FlushOnDrop {
    fn drop(&mut self) {
        self.shared.closing.store(true, Ordering::Release);
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One event's line; the subscriber writes a whole formatted event in one call.
pub struct Line<'a>(&'a Shared);

impl Write for Line<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.append(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffered {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Line<'a> {
        Line(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_reaches_the_output_in_order_by_the_time_the_guard_is_dropped() {
        let sink = Sink::default();
        let (writer, guard) = buffered(sink.clone()).unwrap();
        let lines: Vec<String> = (0..20_000).map(|n| format!("line {n}\n")).collect();
        for line in &lines {
            writer.make_writer().write_all(line.as_bytes()).unwrap();
        }
        drop(guard);
        assert_eq!(String::from_utf8(sink.0.lock().unwrap().clone()).unwrap(), lines.concat());
    }

    #[test]
    fn a_stalled_reader_costs_dropped_lines_not_memory() {
        let shared = Shared::default();
        let line = vec![b'x'; 1000];
        for _ in 0..(MAX_BUFFERED / 1000 + 50) {
            shared.append(&line);
        }
        assert!(shared.lines().len() <= MAX_BUFFERED);
        assert_eq!(shared.dropped.load(Ordering::Relaxed), 50);
    }
}
