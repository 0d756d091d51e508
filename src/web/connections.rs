//! Closes connections that do not send complete request headers in time (`header_timeout_secs`).
//!
//! poem 3.1 builds hyper's connection itself and exposes neither hyper's
//! `header_read_timeout` nor a timer for it, so without this a client could hold a socket
//! open forever by sending nothing, or a request line one byte at a time (security review,
//! issue 14).
//!
//! The rule: a connection waits for request headers from the moment it is accepted and
//! again from the moment the last answer on it is finished (keep-alive). While it waits, a
//! read that comes later than `header_timeout_secs` after the wait began fails and the
//! connection is closed. A request whose headers arrived is never timed: not its body
//! (uploads), not its answer (downloads, the care alert stream), however long they take.
//! An idle keep-alive connection is therefore closed by the same rule once it has been idle
//! that long. A switched-protocol connection (101) is never timed again.
//!
//! Two parts share one state per connection: the acceptor wraps each socket in [`Timed`],
//! which enforces the deadline on reads; the endpoint wrapper [`Track`] marks a request as
//! begun (its headers are complete, or hyper would not have handed it over) and, through
//! the answer's body, as finished. They meet through the peer address, which is unique
//! among the open connections of one listener.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_util::FutureExt;
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::combinators::BoxBody;
use poem::http::StatusCode;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Body, Endpoint, IntoResponse, Request, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Wraps the server's acceptor and endpoint so that connections are held to `timeout_secs`
/// (0: never).
pub fn header_timeout<A: Acceptor, E: Endpoint>(acceptor: A, endpoint: E, timeout_secs: u64) -> (Timed<A>, Track<E>) {
    let open = Open::default();
    let timeout = (timeout_secs > 0).then(|| Duration::from_secs(timeout_secs));
    (Timed { inner: acceptor, timeout, open: open.clone() }, Track { inner: endpoint, open })
}

/// The connections being timed, by peer address.
type Open = Arc<Mutex<HashMap<SocketAddr, Arc<Conn>>>>;

struct Conn {
    timeout: Duration,
    state: Mutex<State>,
}

struct State {
    /// Requests handed to the app and not yet answered in full.
    in_flight: usize,
    /// When the current wait for request headers began; `None` while a request is served.
    waiting_since: Option<Instant>,
    /// Switched protocols: no longer HTTP, never timed again.
    upgraded: bool,
    /// The reader to wake when a wait begins while it is parked without a timer.
    reader: Option<Waker>,
}

impl Conn {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn deadline(&self) -> Option<Instant> {
        self.lock().waiting_since.map(|since| since + self.timeout)
    }

    fn begin(&self) {
        let mut state = self.lock();
        state.in_flight += 1;
        state.waiting_since = None;
    }

    fn finish(&self) {
        let mut state = self.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
        if state.in_flight == 0 && !state.upgraded {
            state.waiting_since = Some(Instant::now());
            if let Some(reader) = state.reader.take() {
                reader.wake();
            }
        }
    }

    /// Bytes still going out after the answer's last one was handed over (a slow reader
    /// taking the tail of a download) keep the wait from starting yet.
    fn wrote(&self) {
        let mut state = self.lock();
        if let Some(since) = state.waiting_since.as_mut() {
            *since = Instant::now();
        }
    }
}

/// The acceptor side: every accepted socket is wrapped in a [`TimedIo`].
pub struct Timed<A> {
    inner: A,
    timeout: Option<Duration>,
    open: Open,
}

impl<A: Acceptor> Acceptor for Timed<A> {
    type Io = TimedIo<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, poem::http::uri::Scheme)> {
        let (io, local, remote, scheme) = self.inner.accept().await?;
        let peer = remote.as_socket_addr().copied();
        let conn = match (self.timeout, peer) {
            (Some(timeout), Some(peer)) => {
                let state = State { in_flight: 0, waiting_since: Some(Instant::now()), upgraded: false, reader: None };
                let conn = Arc::new(Conn { timeout, state: Mutex::new(state) });
                self.open.lock().unwrap_or_else(|p| p.into_inner()).insert(peer, conn.clone());
                Some((peer, conn))
            }
            _ => None,
        };
        let timer = Box::pin(tokio::time::sleep(Duration::ZERO));
        Ok((TimedIo { inner: io, conn, open: self.open.clone(), timer, armed: None }, local, remote, scheme))
    }
}

/// A socket whose reads fail once it has waited too long for request headers.
pub struct TimedIo<T> {
    inner: T,
    conn: Option<(SocketAddr, Arc<Conn>)>,
    open: Open,
    timer: Pin<Box<Sleep>>,
    /// When `timer` fires; `None` before it is first set.
    armed: Option<Instant>,
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "no complete request headers within header_timeout_secs")
}

impl<T: AsyncRead + Unpin> AsyncRead for TimedIo<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let Some((peer, conn)) = &this.conn else {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        };
        // Checked before reading, so a client trickling bytes is cut as surely as a silent one.
        if conn.deadline().is_some_and(|deadline| Instant::now() >= deadline) {
            tracing::debug!(%peer, "closing a connection that sent no complete request headers in time");
            return Poll::Ready(Err(timed_out()));
        }
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        if read.is_ready() {
            return read;
        }
        let deadline = {
            let mut state = conn.lock();
            state.reader = Some(cx.waker().clone());
            state.waiting_since.map(|since| since + conn.timeout)
        };
        let Some(deadline) = deadline else { return Poll::Pending };
        // The deadline moves on with every request, but the timer is moved only when it would
        // otherwise fire late: one that fires early is re-armed here, so a busy keep-alive
        // connection touches the runtime's timer wheel about once per timeout, not per request.
        if this.armed.is_none_or(|armed| armed > deadline) {
            this.timer.as_mut().reset(deadline);
            this.armed = Some(deadline);
        }
        if this.timer.poll_unpin(cx).is_ready() {
            if Instant::now() >= deadline {
                tracing::debug!(%peer, "closing a connection that sent no complete request headers in time");
                return Poll::Ready(Err(timed_out()));
            }
            this.timer.as_mut().reset(deadline);
            this.armed = Some(deadline);
            if this.timer.poll_unpin(cx).is_ready() {
                // Within the timer's resolution of the deadline: look again on the next poll.
                cx.waker().wake_by_ref();
            }
        }
        Poll::Pending
    }
}

impl<T: AsyncWrite + Unpin> TimedIo<T> {
    fn wrote(&self, written: &Poll<io::Result<usize>>) {
        if let (Some((_, conn)), Poll::Ready(Ok(1..))) = (&self.conn, written) {
            conn.wrote();
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TimedIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.wrote(&written);
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.wrote(&written);
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<T> Drop for TimedIo<T> {
    fn drop(&mut self) {
        if let Some((peer, conn)) = &self.conn {
            let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
            // The peer's port may already belong to a newer connection.
            if open.get(peer).is_some_and(|current| Arc::ptr_eq(current, conn)) {
                open.remove(peer);
            }
        }
    }
}

/// The endpoint side: a request stops its connection's wait until its answer is finished.
pub struct Track<E> {
    inner: E,
    open: Open,
}

/// One request in flight; dropped with the answer's body (or with the request, if the
/// client leaves first).
struct InFlight(Arc<Conn>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.finish();
    }
}

impl<E: Endpoint> Endpoint for Track<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let conn = req
            .remote_addr()
            .as_socket_addr()
            .and_then(|peer| self.open.lock().unwrap_or_else(|p| p.into_inner()).get(peer).cloned());
        let Some(conn) = conn else {
            return Ok(self.inner.get_response(req).await);
        };
        conn.begin();
        let in_flight = InFlight(conn);
        let mut response = self.inner.get_response(req).await.into_response();
        if response.status() == StatusCode::SWITCHING_PROTOCOLS {
            in_flight.0.lock().upgraded = true;
        }
        let body = response.take_body();
        response.set_body(Body::from(BoxBody::new(Watched { inner: body.into(), _in_flight: in_flight })));
        Ok(response)
    }
}

/// An answer's body, unchanged (same frames, same size hint, so same framing on the wire),
/// that ends its request's time in flight when hyper is done with it.
struct Watched {
    inner: BoxBody<bytes::Bytes, io::Error>,
    _in_flight: InFlight,
}

impl HttpBody for Watched {
    type Data = bytes::Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
