// A Server-Sent Events reader over fetch (rather than EventSource) so that a refused token,
// answered as a JSON envelope, is read and reported instead of failing silently, and so
// that reconnecting can fetch a fresh token and resume with Last-Event-ID.
//
// watch({ url: async (fresh) => string (fresh: the last attempt's token was refused), onEvent(type, data), onState('live' | 'waiting', message) })
// answers stop().
export function watch({ url, onEvent, onState }) {
  let stopped = false;
  let controller = null;
  let lastId = null;
  let delay = 1000;

  async function once(fresh) {
    controller = new AbortController();
    const headers = { Accept: 'text/event-stream' };
    if (lastId) headers['Last-Event-ID'] = lastId;
    const res = await fetch(await url(fresh), { headers, signal: controller.signal });
    if (!(res.headers.get('content-type') || '').startsWith('text/event-stream')) {
      const answer = await res.json().catch(() => ({}));
      const error = new Error(answer.message || `HTTP ${res.status}`);
      error.status = answer.status;
      throw error;
    }
    onState('live');
    delay = 1000;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let type = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const [field, ...rest] = line.split(':');
          const text = rest.join(':').replace(/^ /, '');
          if (field === 'event') type = text;
          else if (field === 'data') data.push(text);
          else if (field === 'id') lastId = text;
        }
        if (data.length) onEvent(type, data.join('\n'));
      }
    }
  }

  (async () => {
    let refused = false;
    while (!stopped) {
      let reason = '';
      try { await once(refused); refused = false; } catch (err) {
        if (stopped) return;
        reason = err.message;
        refused = err.status === -101;
        // A refusal (care's status, or the console's own when no care session is granted)
        // will not change by retrying; a lost connection or an expired token will.
        if ((err.status !== undefined && err.status !== -101) || err.code !== undefined) {
          onState('stopped', reason);
          return;
        }
      }
      if (stopped) return;
      onState('waiting', reason);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 30000);
    }
  })();

  return () => {
    stopped = true;
    controller?.abort();
  };
}
