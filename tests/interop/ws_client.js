// A Herald stream client built on node's `ws` with permessage-deflate on, for
// tests/interop: it reads herald-server's stream and prints what it got.
//
//   HERALD_TOKEN=<jwt> node ws_client.js <ws://127.0.0.1:port/v1/stream> <count>
//
// Connects (127.0.0.1 only) with subprotocol herald.v1, the token from the environment
// (never printed) in the Authorization header, and Herald-Last-Seen-Id 0 (replay all).
// Prints JSON lines on stdout:
// {"event":"open","protocol":...,"extensions":<negotiated Sec-WebSocket-Extensions>},
// {"event":"message","frame":<the parsed frame>} for each frame, and at a caught_up after
// at least <count> notifications {"event":"done","bytes_read":N} (N: bytes read off the socket,
// handshake included), then closes with 1000 and exits 0. Exits 3 after 20 s, 4 on an
// error or an early close.
'use strict';
let WebSocket;
try {
  WebSocket = require('ws');
} catch (e) {
  WebSocket = require('/usr/share/nodejs/ws');
}

const url = process.argv[2];
const count = Number(process.argv[3] || 10);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
setTimeout(() => { out({ event: 'timeout' }); process.exit(3); }, 20000).unref();
if (!/^ws:\/\/127\.0\.0\.1:\d+\//.test(url)) {
  out({ event: 'error', message: 'only ws://127.0.0.1 URLs' });
  process.exit(2);
}

const ws = new WebSocket(url, 'herald.v1', {
  perMessageDeflate: true,
  // Resume from cursor 0: every retained notification is replayed, then caught_up.
  headers: { Authorization: 'Bearer ' + (process.env.HERALD_TOKEN || ''), 'Herald-Last-Seen-Id': '0' },
});
let notifications = 0;
let done = false;
ws.on('upgrade', (res) => {
  out({ event: 'upgrade', extensions: res.headers['sec-websocket-extensions'] || null });
});
ws.on('open', () => out({ event: 'open', protocol: ws.protocol, extensions: ws.extensions }));
ws.on('message', (data, isBinary) => {
  const frame = JSON.parse(data.toString());
  out({ event: 'message', binary: isBinary, frame });
  if (frame.type === 'notification') ++notifications;
  if (frame.type === 'caught_up' && notifications >= count) {
    done = true;
    out({ event: 'done', bytes_read: ws._socket.bytesRead });
    ws.close(1000, 'done');
  }
});
ws.on('close', (code) => process.exit(done ? 0 : (out({ event: 'closed early', code }), 4)));
ws.on('error', (e) => { out({ event: 'error', message: e.message }); process.exit(4); });
