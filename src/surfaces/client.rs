//! Who is calling, as the failure limiters count it.

use poem::web::RemoteAddr;

/// The client's IP address without the port, so reconnecting from another port does not
/// start a fresh count. A remote that is not an IP socket (a Unix socket) keys by its text.
pub fn client_key(remote: &RemoteAddr) -> String {
    remote.as_socket_addr().map_or_else(|| remote.to_string(), |a| a.ip().to_string())
}
