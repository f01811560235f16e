/* mcastproxy — one TCP connection of the proxy: non-blocking I/O on a
 * GMainContext, framing detection, the mpx handshake, decoding of what the
 * peer sends, and ordered output of control messages and data. */
#ifndef __MCP_CONN_H__
#define __MCP_CONN_H__

#include <gio/gio.h>

#include "mcp-http.h"
#include "mcp-loop.h"
#include "mcp-tls.h"
#include "mcp-wire.h"

G_BEGIN_DECLS

typedef struct _McpConn McpConn;

/* Origins of subscriptions a peer may name on one connection (the
 * SUBSCRIBE extension, docs/protocol.md); more close the connection. */
#define MCP_CONN_MAX_SUB_ORIGINS 256

/* What the listeners of one origin want, distance mpx links away. */
typedef struct
{
  guint64 origin;               /* 0: the sender's own */
  guint8 distance;
  const McpSubSet *set;
} McpConnSubOrigin;

typedef struct
{
  /* Handshake done (or not needed): the framing is known, data may flow. */
  void (*ready) (McpConn * conn, gpointer user_data);
  /* A DATA or CAPS message from the peer. */
  void (*message) (McpConn * conn, McpDecodeResult kind,
      const McpMessage * msg, gpointer user_data);
  /* Optional: the socket took everything queued and can take more. */
  void (*writable) (McpConn * conn, gpointer user_data);
  /* The connection is gone; reason is one line for the log. Called once. */
  void (*closed) (McpConn * conn, const gchar * reason, gpointer user_data);
  /* Optional: the caps to announce in our HELLO (newly allocated or NULL). */
  gchar *(*hello_caps) (McpConn * conn, gpointer user_data);
  /* Optional: FALSE while the user is in the middle of writing a frame
   * (a KEEPALIVE must wait); without it the connection assumes that a
   * write that went out whole ended at a frame boundary. */
  gboolean (*at_frame_boundary) (McpConn * conn, gpointer user_data);
  /* Optional, with cfg->http_path: a GET or HEAD request from an HTTP
   * client (any path). Answer with mcp_conn_http_respond(), now or later;
   * until then the connection reads and drops what the client sends. */
  void (*http_request) (McpConn * conn, const McpHttpRequest * request,
      gpointer user_data);
  /* Optional: the peer's subscriptions changed
   * (mcp_conn_get_peer_subscriptions). */
  void (*subscriptions) (McpConn * conn, gpointer user_data);
} McpConnFuncs;

typedef struct
{
  McpFraming framing;           /* AUTO: told from the peer's first bytes */
  McpRole role;                 /* ours; the peer must have the other one */
  gboolean initiator;           /* we connected, so we speak first */
  guint64 peer_id;              /* ours, announced in HELLO */
  const gchar *name;            /* ours, announced in HELLO; may be NULL */
  guint64 detect_timeout;       /* AUTO acceptor: silence this long (ns)
                                 * means a raw client; 0: the first bytes
                                 * must come within handshake_timeout */
  guint64 handshake_timeout;    /* mpx: the HELLO must arrive within (ns);
                                 * 0: no limit */
  gboolean discard_input;       /* read and drop the peer's data */
  GBytes *auth_secret;          /* optional: both ends must prove that they
                                 * know it in the mpx handshake; raw and
                                 * rfc4571 peers are then refused */
  guint64 keepalive_interval;   /* mpx: send a KEEPALIVE after this long
                                 * without sending anything (ns; 0: never) */
  guint64 peer_timeout;         /* mpx: close after this long without
                                 * hearing from the peer (ns; 0: never);
                                 * also tunes TCP keepalive for any peer */
  McpTls *tls;                  /* optional: TLS first, then the framing */
  gboolean tls_optional;        /* acceptor with tls: a client that does not
                                 * start a TLS handshake within
                                 * detect_timeout is served in plain */
  const gchar *tls_server_identity;     /* initiator: host name the server's
                                         * certificate must name */
  const gchar *http_path;       /* AUTO acceptor with an http_request
                                 * callback: HTTP requests are recognised
                                 * (docs/protocol.md) and this is the path
                                 * the stream is served on; NULL: no HTTP */
  const gchar *upgrade_path;     /* mpx initiator: first asks a gateway for
                                 * this path (GET with Upgrade:
                                 * MCP_HTTP_UPGRADE_MPX), then speaks mpx
                                 * once it answered 101; NULL: none */
  const gchar *upgrade_host;    /* its Host header ("host:port") */
  gboolean http_only;           /* with http_path: a peer that does not
                                 * start with an HTTP request is refused */
  guint32 features;             /* mpx: MCP_FEATURE_* announced in HELLO */
  GRecMutex *lock;              /* optional: held around all the connection
                                 * does on ctx's thread (and so around every
                                 * callback); whoever holds it may use the
                                 * connection from another thread */
} McpConnConfig;

/* Takes a reference on socket. Nothing happens until mcp_conn_start(). All
 * other calls and every callback happen on the thread running ctx, except
 * ref/unref and, once that thread has stopped, close. With cfg->lock, any
 * thread holding that lock may make the calls. */
McpConn *mcp_conn_new (GSocket * socket, GMainContext * ctx,
    const McpConnConfig * cfg, const McpConnFuncs * funcs,
    gpointer user_data);
McpConn *mcp_conn_ref (McpConn * conn);
void mcp_conn_unref (McpConn * conn);

void mcp_conn_start (McpConn * conn);
/* Closes the socket and calls closed (once). */
void mcp_conn_close (McpConn * conn, const gchar * reason);
/* A graceful close: sends what is queued, ends our direction, reads and
 * drops what the peer still sends until it closes (or 2 s passed), then
 * closes with reason. Unlike a plain close it never resets the connection,
 * which could cost the peer what it has not read yet. Nothing more is
 * written meanwhile. */
void mcp_conn_finish (McpConn * conn, const gchar * reason);

/* Writes data after any queued control bytes. Returns the number of bytes
 * of vectors written (possibly 0 or short: writable follows when there is
 * room again), or -1 when the connection failed and was closed. */
gssize mcp_conn_write (McpConn * conn, const GOutputVector * vectors,
    guint n_vectors);
/* Queues control bytes (a whole mpx message); only at a frame boundary. */
void mcp_conn_send_control (McpConn * conn, GBytes * bytes);
/* Answers an HTTP request (http_request callback): queues response (a
 * whole head, or head and body); stream: the client then gets the data
 * as a raw client (ready follows); otherwise the connection finishes
 * gracefully, with reason for the log. */
void mcp_conn_http_respond (McpConn * conn, GBytes * response,
    gboolean stream, const gchar * reason);
/* Answers an HTTP request that asked for MCP_HTTP_UPGRADE_MPX with
 * response (101 Switching Protocols): then the peer's HELLO is awaited and
 * the connection goes on in mpx as an acceptor (ready follows). */
void mcp_conn_http_upgrade (McpConn * conn, GBytes * response);
const gchar *mcp_conn_get_http_path (McpConn * conn);
/* cfg->lock (or NULL): to take before using the connection from outside
 * its callbacks. */
GRecMutex *mcp_conn_get_lock (McpConn * conn);
/* Stops or resumes delivery of messages (flow control towards the peer). */
void mcp_conn_set_reading (McpConn * conn, gboolean reading);

/* Reading on another thread, the reader's, so that input reaches it
 * without a wake-up of ctx's thread. With cfg->lock only, and for a ready
 * connection; every call here under that lock.
 *
 * mcp_conn_set_reader() hands the input over: ctx's thread stops watching
 * the socket for it (timers, keepalives and writes stay there). The reader
 * calls mcp_conn_reader_wait() before it waits, polls the fd it got (with
 * its own wake-up, without the lock), then calls mcp_conn_reader_read();
 * the message callback runs on the reader's thread. ready and closed do
 * not: a close found while reading completes on ctx's thread.
 *
 * A reader that neither waits nor reads for 20 to 40 ms (downstream slow,
 * streaming stopped) loses the input to ctx's thread, which then reads as
 * before; wakeup is set then, and when the connection closes, so that a
 * reader waiting on the fd looks again. While the reader is away the
 * peer's silence proves nothing (as while not reading). */
void mcp_conn_set_reader (McpConn * conn, McpWakeup * wakeup);
/* Takes the input back to ctx's thread (nothing if not handed over). */
void mcp_conn_unset_reader (McpConn * conn);
/* The input is still the reader's (not closed, not taken back). */
gboolean mcp_conn_has_reader (McpConn * conn);
/* Before the reader waits: FALSE when it must read at once instead (TLS
 * may hold decrypted bytes). Otherwise *fd is the socket to poll for
 * G_IO_IN, or -1 when there is no input to wait for (not reading, closed,
 * taken back): wait for the wake-up alone. */
gboolean mcp_conn_reader_wait (McpConn * conn, gint * fd);
/* Reads and decodes what the socket holds now (at most 1 MiB), without
 * blocking. */
void mcp_conn_reader_read (McpConn * conn);

gboolean mcp_conn_is_closed (McpConn * conn);
/* The connection ended, or is ending, because the peer was turned away at
 * the handshake: TLS or authentication failed, it spoke another protocol
 * or role, sent garbage, or did not finish in time. */
gboolean mcp_conn_was_refused (McpConn * conn);
/* Waiting for room in the socket (writable will be called). */
gboolean mcp_conn_is_write_blocked (McpConn * conn);
McpFraming mcp_conn_get_framing (McpConn * conn);
const gchar *mcp_conn_get_peer_address (McpConn * conn);
guint64 mcp_conn_get_peer_id (McpConn * conn);
const gchar *mcp_conn_get_peer_caps (McpConn * conn);
guint64 mcp_conn_get_bytes_in (McpConn * conn);
/* The features of the peer's HELLO (0 before it came, or for raw and
 * rfc4571 peers). */
guint32 mcp_conn_get_peer_features (McpConn * conn);
/* What the peer subscribed to: NULL when it takes no part in subscriptions
 * (it gets everything), else its set, empty until its first SUBSCRIBE. A
 * SUBSCRIBE that is not valid closes the connection ("bad input"), as does
 * a set beyond MCP_SUB_MAX_ENTRIES. */
const McpSubSet *mcp_conn_get_peer_subscriptions (McpConn * conn);
/* What we want from the peer (mpx): sent as a whole (SUBSCRIBE with
 * REPLACE) once our half of the handshake is out, later as changes
 * (UNSUBSCRIBE, SUBSCRIBE), each at a frame boundary. A copy is kept. */
void mcp_conn_set_subscriptions (McpConn * conn, const McpSubSet * set);
/* What the peer sent per origin (McpConnSubOrigin, sorted by origin; the
 * sets belong to the connection and last until its next message): NULL
 * when it takes no part; origins whose state is empty are left out. Their
 * union is mcp_conn_get_peer_subscriptions(). */
GArray *mcp_conn_get_peer_origins (McpConn * conn);
/* Our subscriptions per origin, the whole table (an origin missing, or
 * with an empty set, is withdrawn); replaces mcp_conn_set_subscriptions().
 * Sent once the handshake is done both ways: to a peer that announced
 * MCP_FEATURE_SUB_ORIGINS, each origin's state as a whole, then its
 * changes, and a withdrawn origin as an empty REPLACE; to one that
 * announced only MCP_FEATURE_SUBSCRIPTIONS, the union as
 * mcp_conn_set_subscriptions() sends it; to others nothing. The sets are
 * copied. */
void mcp_conn_set_origin_subscriptions (McpConn * conn,
    const McpConnSubOrigin * origins, guint n_origins);
guint64 mcp_conn_get_bytes_out (McpConn * conn);

G_END_DECLS

#endif /* __MCP_CONN_H__ */
