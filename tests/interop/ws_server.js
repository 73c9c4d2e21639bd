// A stand-in Herald stream server built on node's `ws` with permessage-deflate on, for
// tests/interop: the SDK's Client connects to it and must receive every notification.
//
//   node ws_server.js <port> <count>
//
// Listens on 127.0.0.1:<port> only. For one connection offering `herald.v1` with a
// Bearer token (never printed), it sends welcome (resume "fresh"), caught_up, then
// <count> notifications with ids 1..count, each about 225 bytes of JSON. Prints JSON
// lines on stdout: {"event":"listening"}, {"event":"connected","offered":<the client's
// Sec-WebSocket-Extensions>,"negotiated":<ours>}, and at the client's close
// {"event":"closed","payload_bytes":N,"bytes_written":M} (M counts the handshake and the
// frames after compression). Exits after that close, or after 20 s in any case.
'use strict';
let WebSocket;
try {
  WebSocket = require('ws');
} catch (e) {
  WebSocket = require('/usr/share/nodejs/ws');
}

const port = Number(process.argv[2]);
const count = Number(process.argv[3] || 10);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
setTimeout(() => { out({ event: 'timeout' }); process.exit(3); }, 20000).unref();

const notification = (id) => JSON.stringify({
  type: 'notification', id, created_at: '2026-12-01T10:00:00.000Z', topic: 'order.shipped',
  data: { order_id: 'ord-' + (100000 + id), status: 'shipped', carrier: 'DHL Express',
          tracking: 'JD01460000' + (1000 + id), eta: '2026-12-03', note: 'Your parcel is on its way to you.' },
});

let negotiated = null;
const wss = new WebSocket.Server({
  host: '127.0.0.1',
  port,
  perMessageDeflate: { threshold: 0 },  // compress every message, however small
  handleProtocols: (protocols) => (protocols.has('herald.v1') ? 'herald.v1' : false),
  verifyClient: (info) => /^Bearer \S+$/.test(info.req.headers.authorization || ''),
});
wss.on('headers', (headers) => {
  const h = headers.find((l) => /^sec-websocket-extensions:/i.test(l));
  negotiated = h ? h.replace(/^[^:]*:\s*/, '') : null;
});
wss.on('listening', () => out({ event: 'listening' }));
wss.on('connection', (ws, req) => {
  out({ event: 'connected', offered: req.headers['sec-websocket-extensions'] || null, negotiated,
        extensions: Object.keys(ws._extensions || {}) });
  let payload = 0;
  const send = (text) => { payload += Buffer.byteLength(text); ws.send(text); };
  send(JSON.stringify({
    type: 'welcome', session_id: 's-node-ws', user_id: 'u1', protocol: 1, heartbeat_s: 25,
    token_expires_at: Math.floor(Date.now() / 1000) + 3600, features: ['drain'],
    resume: { status: 'fresh', from_id: null, head_id: 0, epoch: 'node-ws-1' },
  }));
  send(JSON.stringify({ type: 'caught_up', head_id: 0 }));
  for (let id = 1; id <= count; ++id) send(notification(id));
  ws.on('close', () => {
    out({ event: 'closed', payload_bytes: payload, bytes_written: req.socket.bytesWritten });
    wss.close();
    process.exit(0);
  });
});
