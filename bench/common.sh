# Shared by the bench scripts (sourced, not run): the hearth binary to measure and a free
# loopback port. Callers define `log` and `die` and set ROOT and TARGET first.

# hearth_binary: sets BIN to HEARTH_BIN, or builds the release binary and uses that.
hearth_binary() {
    if [[ -n "${HEARTH_BIN:-}" ]]; then
        [[ -x "$HEARTH_BIN" ]] || die "HEARTH_BIN=$HEARTH_BIN is not an executable"
        BIN="$HEARTH_BIN"
        return
    fi
    log "cargo build --release"
    (cd "$ROOT" && cargo build --release --quiet)
    BIN="$TARGET/release/hearth"
    [[ -x "$BIN" ]] || die "binary not found at $BIN"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
