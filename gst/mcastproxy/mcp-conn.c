/* mcastproxy — one TCP connection of the proxy (see mcp-conn.h). */
#include "config.h"

#include "mcp-conn.h"
#include "mcp-address.h"
#include "mcp-auth.h"
#include "mcp-tcp.h"

#include <stdio.h>
#include <string.h>

/* Read at most this much per wake-up, so that one busy peer cannot starve
 * the others sharing the thread. */
#define READ_BUDGET (1024 * 1024)
#define READ_CHUNK (64 * 1024)
/* Over TLS, data is copied into the output buffer (one TLS record holds
 * up to 16 KiB, whatever the vectors); up to this much is taken at once. */
#define TLS_OUT_MAX (256 * 1024)
/* The first byte of a TLS handshake record. */
#define TLS_RECORD_HANDSHAKE 0x16
/* How long a finishing connection waits for the peer to close its side. */
#define LINGER_TIMEOUT (2 * G_TIME_SPAN_SECOND * 1000)
/* How often ctx's thread looks whether an external reader is still there
 * (µs): one that neither read nor waited for a whole period loses the
 * input. */
#define READER_CHECK_US (20 * G_TIME_SPAN_MILLISECOND)

typedef enum
{
  HTTP_UNDECIDED,               /* AUTO acceptor: could still be HTTP */
  HTTP_NO,
  HTTP_READING,                 /* the request head is coming in */
  HTTP_ANSWERING,               /* taken: its answer, then data or close */
  HTTP_UPGRADING,               /* initiator: our request is out, the
                                 * answer to it is coming in */
} HttpState;

typedef enum
{
  TIMER_NONE,
  TIMER_DETECT,
  TIMER_HANDSHAKE,
  TIMER_LIVENESS,               /* ready: keepalives out, silence in */
  TIMER_TLS_DETECT,             /* TLS listener: no first byte in time */
  TIMER_LINGER,                 /* finishing: the peer did not close */
} TimerKind;

/* The liveness timer looks this many times per interval, so a KEEPALIVE
 * leaves at most 1.5 intervals after the last byte, and silence is noticed
 * at most a quarter of peer-timeout late. */
#define KEEPALIVE_CHECKS 2
#define SILENCE_CHECKS 4

struct _McpConn
{
  gint refcount;
  GSocket *socket;
  GMainContext *context;
  McpConnConfig cfg;
  gchar *name;
  McpConnFuncs funcs;
  gpointer user_data;

  GSource *source;
  gpointer fd_tag;
  GIOCondition events;
  TimerKind timer;
  gint64 deadline;              /* the timer's, monotonic us; -1: none */
  gboolean kick;                /* dispatch again at once: read on */

  GTlsConnection *tls;          /* NULL: plain TCP */
  GPollableInputStream *tls_in;
  GPollableOutputStream *tls_out;
  GCancellable *tls_cancel;
  gboolean tls_handshaking;
  gboolean tls_detecting;       /* tls_optional: waiting for a first byte */

  gchar *finish_reason;         /* finishing: what closed will say */
  gboolean write_shut;

  McpDecoder *dec;
  gboolean started;
  gboolean ready;
  gboolean closed;
  gboolean reading;
  gboolean want_write;
  gboolean hello_sent;
  gboolean awaiting_proof;      /* HELLOs exchanged, AUTH pending */
  gboolean refused;             /* turned away at the handshake */
  McpAuthParty me, peer;

  /* liveness: what the counters were at the last check, and when they
   * last moved */
  guint64 seen_in, seen_out;
  gint64 moved_in, moved_out;

  GByteArray *ctl;              /* control bytes not yet written */
  gsize ctl_off;

  HttpState http;
  gchar *http_path;
  gchar *upgrade_path;
  gchar *upgrade_host;

  gchar *tls_identity;
  gchar *peer_address;
  guint64 peer_id;
  gchar *peer_caps;
  guint32 peer_features;
  McpSubSet *peer_subs;         /* NULL: the peer gets everything */
  McpSubSet *want_subs;         /* ours; NULL: never set */
  McpSubSet *sent_subs;         /* what the peer has of want_subs */
  /* per origin (the SUBSCRIBE extension): guint64 origin -> OriginSubs */
  GHashTable *peer_origins;     /* what the peer sent; peer_subs is their
                                 * union */
  GHashTable *want_origins;     /* ours; NULL: not used */
  GHashTable *sent_origins;     /* what the peer has of want_origins */
  gboolean subs_may_send;       /* our last handshake message is out */
  gboolean subs_dirty;          /* ours changed since last sent (or the
                                 * peer had none yet) */
  guint64 bytes_in;
  guint64 bytes_out;

  /* input handed to another thread (mcp_conn_set_reader) */
  gboolean reader;
  McpWakeup *reader_wakeup;     /* the reader's, set when it must look */
  gboolean reader_waiting;      /* it polls the socket for input */
  gboolean in_reader;           /* inside mcp_conn_reader_read() */
  guint64 reader_reads;         /* its calls of mcp_conn_reader_read() */
  guint64 reader_seen;          /* ... at the last check */
  gint64 reader_check;          /* next check, monotonic µs; -1: none */
  gchar *close_pending;         /* closed inside mcp_conn_reader_read():
                                 * ctx's thread completes it */
};

/* One origin's subscriptions (the SUBSCRIBE extension). */
typedef struct
{
  guint8 distance;
  McpSubSet *set;
} OriginSubs;

static void
origin_subs_free (gpointer data)
{
  OriginSubs *o = data;

  mcp_sub_set_free (o->set);
  g_free (o);
}

static GHashTable *
origin_table_new (void)
{
  return g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
      origin_subs_free);
}

static void
origin_table_put (GHashTable * t, guint64 origin, guint8 distance,
    McpSubSet * set)
{
  OriginSubs *o = g_new0 (OriginSubs, 1);

  o->distance = distance;
  o->set = set;
  g_hash_table_replace (t, g_memdup2 (&origin, sizeof (origin)), o);
}

static void update_events (McpConn * self);
static void process_input (McpConn * self);
static void start_framing (McpConn * self);
static void tls_detect (McpConn * self);

McpConn *
mcp_conn_new (GSocket * socket, GMainContext * ctx, const McpConnConfig * cfg,
    const McpConnFuncs * funcs, gpointer user_data)
{
  McpConn *self = g_new0 (McpConn, 1);
  GSocketAddress *remote;

  self->refcount = 1;
  self->socket = g_object_ref (socket);
  self->context = g_main_context_ref (ctx);
  self->cfg = *cfg;
  self->name = g_strdup (cfg->name);
  self->cfg.name = self->name;
  self->http_path = g_strdup (cfg->http_path);
  self->cfg.http_path = self->http_path;
  self->upgrade_path = g_strdup (cfg->upgrade_path);
  self->cfg.upgrade_path = self->upgrade_path;
  self->upgrade_host = g_strdup (cfg->upgrade_host);
  self->cfg.upgrade_host = self->upgrade_host;
  if (!self->http_path || !funcs->http_request || cfg->initiator
      || cfg->framing != MCP_FRAMING_AUTO)
    self->http = HTTP_NO;
  self->funcs = *funcs;
  self->user_data = user_data;
  self->reading = TRUE;
  self->deadline = -1;
  self->reader_check = -1;
  self->ctl = g_byte_array_new ();
  self->peer_origins = origin_table_new ();
  self->cfg.tls = cfg->tls ? mcp_tls_ref (cfg->tls) : NULL;
  self->cfg.tls_server_identity = NULL;
  self->tls_identity = g_strdup (cfg->tls_server_identity);
  if (cfg->auth_secret && g_bytes_get_size (cfg->auth_secret) > 0)
    self->cfg.auth_secret = g_bytes_ref (cfg->auth_secret);
  else
    self->cfg.auth_secret = NULL;
  self->me.role = cfg->role;
  self->me.peer_id = cfg->peer_id;
  if (self->cfg.auth_secret)
    mcp_auth_make_nonce (self->me.nonce);
  remote = g_socket_get_remote_address (socket, NULL);
  self->peer_address = remote ? mcp_socket_address_to_string (remote) :
      g_strdup ("(unknown peer)");
  g_clear_object (&remote);
  g_socket_set_blocking (socket, FALSE);
  return self;
}

McpConn *
mcp_conn_ref (McpConn * self)
{
  g_atomic_int_inc (&self->refcount);
  return self;
}

void
mcp_conn_unref (McpConn * self)
{
  if (!g_atomic_int_dec_and_test (&self->refcount))
    return;
  if (self->source) {
    g_source_destroy (self->source);
    g_source_unref (self->source);
  }
  g_socket_close (self->socket, NULL);
  g_object_unref (self->socket);
  g_main_context_unref (self->context);
  mcp_decoder_free (self->dec);
  g_byte_array_unref (self->ctl);
  g_free (self->peer_address);
  g_free (self->peer_caps);
  mcp_sub_set_free (self->peer_subs);
  mcp_sub_set_free (self->want_subs);
  mcp_sub_set_free (self->sent_subs);
  g_hash_table_unref (self->peer_origins);
  if (self->want_origins)
    g_hash_table_unref (self->want_origins);
  if (self->sent_origins)
    g_hash_table_unref (self->sent_origins);
  g_free (self->name);
  g_free (self->http_path);
  g_free (self->upgrade_path);
  g_free (self->upgrade_host);
  g_clear_pointer (&self->cfg.auth_secret, g_bytes_unref);
  g_clear_pointer (&self->cfg.tls, mcp_tls_unref);
  g_clear_object (&self->tls);
  g_clear_object (&self->tls_cancel);
  g_free (self->tls_identity);
  g_free (self->finish_reason);
  g_free (self->close_pending);
  g_free (self);
}


gboolean
mcp_conn_was_refused (McpConn * self)
{
  return self->refused;
}



gboolean
mcp_conn_is_closed (McpConn * self)
{
  return self->closed;
}

gboolean
mcp_conn_is_write_blocked (McpConn * self)
{
  return self->want_write;
}

McpFraming
mcp_conn_get_framing (McpConn * self)
{
  return self->dec ? mcp_decoder_get_framing (self->dec) : self->cfg.framing;
}

const gchar *
mcp_conn_get_peer_address (McpConn * self)
{
  return self->peer_address;
}

guint64
mcp_conn_get_peer_id (McpConn * self)
{
  return self->peer_id;
}

const gchar *
mcp_conn_get_peer_caps (McpConn * self)
{
  return self->peer_caps;
}

guint64
mcp_conn_get_bytes_in (McpConn * self)
{
  return self->bytes_in;
}

guint64
mcp_conn_get_bytes_out (McpConn * self)
{
  return self->bytes_out;
}


const gchar *
mcp_conn_get_http_path (McpConn * self)
{
  return self->http_path;
}

GRecMutex *
mcp_conn_get_lock (McpConn * self)
{
  return self->cfg.lock;
}


/* Reads and drops what the socket holds, at most 1 MiB per call (one
 * busy peer must not hold the thread). TRUE when the peer has closed its
 * side or the socket failed: nothing more will come.
 * Also used before a close: closing with unread input makes the kernel
 * reset the connection, and a reset can make the peer lose what we wrote
 * last (a refusal, the end of the stream). */
static gboolean
discard_input (GSocket * socket)
{
  gchar buf[16 * 1024];
  guint i;

  for (i = 0; i < 64; i++) {
    GError *err = NULL;
    gssize n = g_socket_receive (socket, buf, sizeof (buf), NULL, &err);

    if (n > 0)
      continue;
    if (n < 0 && g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      g_error_free (err);
      return FALSE;
    }
    g_clear_error (&err);
    return TRUE;
  }
  return FALSE;
}

static void arm_source (McpConn * self);

/* The close itself, after closed was set. */
static void
finish_close (McpConn * self)
{
  gchar *reason = g_steal_pointer (&self->close_pending);

  if (self->source) {
    g_source_destroy (self->source);
    g_clear_pointer (&self->source, g_source_unref);
    self->fd_tag = NULL;
  }
  if (self->tls_cancel)
    g_cancellable_cancel (self->tls_cancel);
  discard_input (self->socket);
  g_socket_close (self->socket, NULL);
  if (self->reader) {
    /* a reader may be polling the closed socket */
    self->reader = FALSE;
    mcp_wakeup_set (self->reader_wakeup);
  }
  mcp_conn_ref (self);
  self->funcs.closed (self, reason, self->user_data);
  mcp_conn_unref (self);
  g_free (reason);
}

void
mcp_conn_close (McpConn * self, const gchar * reason)
{
  if (self->closed) {
    /* one the reader found is completed by whoever comes next */
    if (self->close_pending && !self->in_reader)
      finish_close (self);
    return;
  }
  self->closed = TRUE;
  self->ready = FALSE;
  self->close_pending = g_strdup (reason);
  if (self->in_reader) {
    /* closed runs on ctx's thread, never on the reader's */
    arm_source (self);
    return;
  }
  finish_close (self);
}

/* The peer is turned away during the handshake (security, protocol): the
 * owner may want to tell the user (mcp_conn_was_refused). */
static void
close_refused (McpConn * self, const gchar * reason)
{
  self->refused = TRUE;
  mcp_conn_close (self, reason);
}

static void
close_with_error (McpConn * self, const gchar * what, GError * err)
{
  gchar *reason = g_strdup_printf ("%s: %s", what, err->message);

  mcp_conn_close (self, reason);
  g_free (reason);
}

/* ---- timers ------------------------------------------------------------ */

static void
arm_source (McpConn * self)
{
  gint64 t = self->deadline;

  if (!self->source)
    return;
  /* a kick is the reader's business while it has the input */
  if (self->close_pending || (self->kick && !self->reader))
    t = 0;
  else if (self->reader && self->reader_check != -1
      && (t == -1 || self->reader_check < t))
    t = self->reader_check;
  g_source_set_ready_time (self->source, t);
}

static void
set_timer (McpConn * self, TimerKind kind, guint64 timeout_ns)
{
  if (kind == TIMER_NONE || timeout_ns == 0) {
    self->timer = TIMER_NONE;
    self->deadline = -1;
  } else {
    self->timer = kind;
    self->deadline = g_get_monotonic_time () + timeout_ns / 1000;
  }
  arm_source (self);
}

/* Over TLS, decrypted bytes may wait inside the TLS layer while the
 * socket has nothing more: read again without waiting for poll. */
static void
kick (McpConn * self)
{
  if (self->tls && !self->kick) {
    self->kick = TRUE;
    arm_source (self);
  }
}

/* ---- the byte stream: the socket, or TLS over it ------------------------ */

static gssize
stream_send (McpConn * self, const guint8 * data, gsize len, GError ** err)
{
  if (self->tls)
    return g_pollable_output_stream_write_nonblocking (self->tls_out, data,
        len, NULL, err);
  return g_socket_send (self->socket, (const gchar *) data, len, NULL, err);
}

static gssize
stream_receive (McpConn * self, guint8 * buf, gsize len, GError ** err)
{
  if (self->tls)
    return g_pollable_input_stream_read_nonblocking (self->tls_in, buf, len,
        NULL, err);
  return g_socket_receive (self->socket, (gchar *) buf, len, NULL, err);
}

/* ---- output ------------------------------------------------------------ */

static void
set_want_write (McpConn * self, gboolean want)
{
  if (self->want_write != want) {
    self->want_write = want;
    update_events (self);
  }
}

/* TRUE when all control bytes are out. */
static gboolean
flush_control (McpConn * self)
{
  while (self->ctl_off < self->ctl->len) {
    GError *err = NULL;
    /* Over TLS, a write that would block must be repeated with the same
     * bytes: they stay at the front of ctl until they are out. */
    gssize n = stream_send (self, self->ctl->data + self->ctl_off,
        self->ctl->len - self->ctl_off, &err);

    if (n < 0) {
      if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        g_error_free (err);
        set_want_write (self, TRUE);
      } else {
        close_with_error (self, "write failed", err);
        g_error_free (err);
      }
      return FALSE;
    }
    self->ctl_off += n;
    self->bytes_out += n;
  }
  g_byte_array_set_size (self->ctl, 0);
  self->ctl_off = 0;
  return TRUE;
}

static gboolean
at_frame_boundary (McpConn * self)
{
  return !self->funcs.at_frame_boundary
      || self->funcs.at_frame_boundary (self, self->user_data);
}

static void send_origin_subscriptions (McpConn * self);

/* Sends what changed in want_subs since sent_subs, when we may. */
static void
send_whole_subscriptions (McpConn * self)
{
  GBytes *msg;

  if (!self->want_subs || !self->subs_may_send || self->closed
      || self->finish_reason || !self->hello_sent || !at_frame_boundary (self))
    return;
  self->subs_dirty = FALSE;
  if (!self->sent_subs) {
    msg = mcp_mpx_build_subscribe (self->want_subs, FALSE, TRUE);
    mcp_conn_send_control (self, msg);
    g_bytes_unref (msg);
  } else if (!mcp_sub_set_equal (self->sent_subs, self->want_subs)) {
    McpSubSet *gone = mcp_sub_set_new (), *added = mcp_sub_set_new ();

    mcp_sub_set_diff (self->sent_subs, self->want_subs, gone, added);
    if (!mcp_sub_set_is_empty (gone)) {
      msg = mcp_mpx_build_subscribe (gone, TRUE, FALSE);
      mcp_conn_send_control (self, msg);
      g_bytes_unref (msg);
    }
    if (!mcp_sub_set_is_empty (added)) {
      msg = mcp_mpx_build_subscribe (added, FALSE, FALSE);
      mcp_conn_send_control (self, msg);
      g_bytes_unref (msg);
    }
    mcp_sub_set_free (gone);
    mcp_sub_set_free (added);
  } else {
    return;
  }
  mcp_sub_set_free (self->sent_subs);
  self->sent_subs = mcp_sub_set_copy (self->want_subs);
}

static void
send_subscriptions (McpConn * self)
{
  /* cheap when nothing changed: this runs before every write */
  if (!self->subs_dirty)
    return;
  if (self->want_origins)
    send_origin_subscriptions (self);
  else
    send_whole_subscriptions (self);
}

static gint
cmp_u64 (gconstpointer a, gconstpointer b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;

  return x < y ? -1 : x > y;
}

static void
send_origin_msg (McpConn * self, const McpSubSet * set, gboolean unsubscribe,
    gboolean replace, guint64 origin, guint8 distance)
{
  GBytes *msg = mcp_mpx_build_subscribe_origin (set, unsubscribe, replace,
      origin, distance);

  mcp_conn_send_control (self, msg);
  g_bytes_unref (msg);
}

/* Per origin: what changed in want_origins since sent_origins. Waits for
 * the peer's HELLO, which says whether it reads the extension; a peer
 * that does not gets the union the old way, one that takes no part in
 * subscriptions gets nothing. */
static void
send_origin_subscriptions (McpConn * self)
{
  GArray *keys;
  GHashTableIter it;
  gpointer k;
  guint i;

  if (!self->subs_may_send || !self->ready || self->closed
      || self->finish_reason || !self->hello_sent
      || !(self->peer_features & MCP_FEATURE_SUBSCRIPTIONS)
      || !at_frame_boundary (self))
    return;
  if (!(self->peer_features & MCP_FEATURE_SUB_ORIGINS)) {
    OriginSubs *o;

    mcp_sub_set_free (self->want_subs);
    self->want_subs = mcp_sub_set_new ();
    g_hash_table_iter_init (&it, self->want_origins);
    while (g_hash_table_iter_next (&it, NULL, (gpointer *) & o))
      mcp_sub_set_add_all (self->want_subs, o->set);
    send_whole_subscriptions (self);
    return;
  }
  if (!self->sent_origins)
    self->sent_origins = origin_table_new ();

  /* in order, so that the peer sees the same sequence every time */
  keys = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_hash_table_iter_init (&it, self->want_origins);
  while (g_hash_table_iter_next (&it, &k, NULL))
    g_array_append_val (keys, *(guint64 *) k);
  g_hash_table_iter_init (&it, self->sent_origins);
  while (g_hash_table_iter_next (&it, &k, NULL))
    if (!g_hash_table_contains (self->want_origins, k))
      g_array_append_val (keys, *(guint64 *) k);
  g_array_sort (keys, cmp_u64);

  for (i = 0; i < keys->len; i++) {
    guint64 origin = g_array_index (keys, guint64, i);
    OriginSubs *w = g_hash_table_lookup (self->want_origins, &origin);
    OriginSubs *sent = g_hash_table_lookup (self->sent_origins, &origin);

    if (!w) {
      /* withdrawn: an empty state for that origin */
      McpSubSet *empty = mcp_sub_set_new ();

      send_origin_msg (self, empty, FALSE, TRUE, origin, sent->distance);
      mcp_sub_set_free (empty);
      g_hash_table_remove (self->sent_origins, &origin);
      continue;
    }
    if (sent && sent->distance == w->distance
        && mcp_sub_set_equal (sent->set, w->set))
      continue;
    if (!sent || sent->distance != w->distance) {
      send_origin_msg (self, w->set, FALSE, TRUE, origin, w->distance);
    } else {
      McpSubSet *gone = mcp_sub_set_new (), *added = mcp_sub_set_new ();

      mcp_sub_set_diff (sent->set, w->set, gone, added);
      if (!mcp_sub_set_is_empty (gone))
        send_origin_msg (self, gone, TRUE, FALSE, origin, w->distance);
      if (!mcp_sub_set_is_empty (added))
        send_origin_msg (self, added, FALSE, FALSE, origin, w->distance);
      mcp_sub_set_free (gone);
      mcp_sub_set_free (added);
    }
    origin_table_put (self->sent_origins, origin, w->distance,
        mcp_sub_set_copy (w->set));
  }
  g_array_unref (keys);
  self->subs_dirty = FALSE;
}

void
mcp_conn_set_subscriptions (McpConn * self, const McpSubSet * set)
{
  mcp_sub_set_free (self->want_subs);
  self->want_subs = mcp_sub_set_copy (set);
  self->subs_dirty = TRUE;
  send_subscriptions (self);
}

void
mcp_conn_set_origin_subscriptions (McpConn * self,
    const McpConnSubOrigin * origins, guint n_origins)
{
  guint i;

  if (self->want_origins)
    g_hash_table_remove_all (self->want_origins);
  else
    self->want_origins = origin_table_new ();
  for (i = 0; i < n_origins; i++) {
    McpSubSet *set;
    OriginSubs *o;

    if (!origins[i].set || mcp_sub_set_is_empty (origins[i].set))
      continue;
    o = g_hash_table_lookup (self->want_origins, &origins[i].origin);
    if (o) {
      /* twice: one state, the nearer distance */
      mcp_sub_set_add_all (o->set, origins[i].set);
      o->distance = MIN (o->distance, origins[i].distance);
      continue;
    }
    set = mcp_sub_set_copy (origins[i].set);
    origin_table_put (self->want_origins, origins[i].origin,
        origins[i].distance, set);
  }
  self->subs_dirty = TRUE;
  send_subscriptions (self);
}

GArray *
mcp_conn_get_peer_origins (McpConn * self)
{
  GArray *out;
  GHashTableIter it;
  gpointer k, v;

  if (!self->peer_subs)
    return NULL;
  out = g_array_new (FALSE, FALSE, sizeof (McpConnSubOrigin));
  g_hash_table_iter_init (&it, self->peer_origins);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    McpConnSubOrigin e;

    e.origin = *(guint64 *) k;
    e.distance = ((OriginSubs *) v)->distance;
    e.set = ((OriginSubs *) v)->set;
    g_array_append_val (out, e);
  }
  g_array_sort (out, cmp_u64);
  return out;
}

guint32
mcp_conn_get_peer_features (McpConn * self)
{
  return self->peer_features;
}

const McpSubSet *
mcp_conn_get_peer_subscriptions (McpConn * self)
{
  return self->peer_subs;
}

void
mcp_conn_send_control (McpConn * self, GBytes * bytes)
{
  gsize len;
  gconstpointer data = g_bytes_get_data (bytes, &len);

  if (self->closed || self->write_shut)
    return;
  g_byte_array_append (self->ctl, data, len);
  flush_control (self);
}

gssize
mcp_conn_write (McpConn * self, const GOutputVector * vectors, guint n)
{
  GError *err = NULL;
  gssize written;
  gsize total = 0;
  guint i;

  if (self->closed)
    return -1;
  if (self->finish_reason)
    return 0;
  if ((self->want_subs || self->want_origins) && self->subs_may_send)
    send_subscriptions (self);
  if (!flush_control (self))
    return self->closed ? -1 : 0;
  if (n == 0)
    return 0;

  if (self->tls) {
    /* copy into the output buffer, then write it out in records */
    gsize taken = 0;

    for (i = 0; i < n; i++) {
      gsize off = 0;

      while (off < vectors[i].size) {
        gsize room, chunk;

        if (self->ctl->len >= TLS_OUT_MAX) {
          if (!flush_control (self))
            return self->closed ? -1 : (gssize) taken;
        }
        room = TLS_OUT_MAX - self->ctl->len;
        chunk = MIN (room, vectors[i].size - off);
        g_byte_array_append (self->ctl,
            (const guint8 *) vectors[i].buffer + off, chunk);
        off += chunk;
        taken += chunk;
      }
    }
    /* what is still in ctl counts as taken: it leaves before anything
     * else, and writable follows */
    if (!flush_control (self) && self->closed)
      return -1;
    return taken;
  }

  written = g_socket_send_message (self->socket, NULL,
      (GOutputVector *) vectors, n, NULL, 0, 0, NULL, &err);
  if (written < 0) {
    if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      g_error_free (err);
      set_want_write (self, TRUE);
      return 0;
    }
    close_with_error (self, "write failed", err);
    g_error_free (err);
    return -1;
  }
  self->bytes_out += written;
  for (i = 0; i < n; i++)
    total += vectors[i].size;
  if ((gsize) written < total)
    set_want_write (self, TRUE);
  return written;
}

/* ---- handshake --------------------------------------------------------- */

static void
send_hello (McpConn * self)
{
  gchar *caps = self->funcs.hello_caps ?
      self->funcs.hello_caps (self, self->user_data) : NULL;
  GBytes *hello = mcp_mpx_build_hello_full (self->cfg.role,
      self->cfg.peer_id, caps, self->cfg.name,
      self->cfg.auth_secret ? self->me.nonce : NULL, self->cfg.features);

  self->hello_sent = TRUE;
  mcp_conn_send_control (self, hello);
  g_bytes_unref (hello);
  g_free (caps);
  if (!self->cfg.auth_secret) {
    /* our half of the handshake is out */
    self->subs_may_send = TRUE;
    send_subscriptions (self);
  }
}

/* How often the liveness timer looks (0: no need). */
static guint64
liveness_period (McpConn * self)
{
  guint64 period = G_MAXUINT64;

  if (mcp_decoder_get_framing (self->dec) != MCP_FRAMING_MPX)
    return 0;
  if (self->cfg.keepalive_interval)
    period = MIN (period, self->cfg.keepalive_interval / KEEPALIVE_CHECKS);
  if (self->cfg.peer_timeout)
    period = MIN (period, self->cfg.peer_timeout / SILENCE_CHECKS);
  if (period == G_MAXUINT64)
    return 0;
  return MAX (period, 1000000);
}

static void
become_ready (McpConn * self)
{
  if (self->ready || self->closed)
    return;
  set_timer (self, TIMER_NONE, 0);
  self->ready = TRUE;
  self->seen_in = self->bytes_in;
  self->seen_out = self->bytes_out;
  self->moved_in = self->moved_out = g_get_monotonic_time ();
  set_timer (self, TIMER_LIVENESS, liveness_period (self));
  /* per-origin subscriptions wait for the peer's features */
  if (self->want_origins)
    send_subscriptions (self);
  self->funcs.ready (self, self->user_data);
}

/* Tells the peer why, in one line, and closes. */
static void
refuse (McpConn * self, const gchar * told, const gchar * logged)
{
  if (mcp_decoder_get_framing (self->dec) == MCP_FRAMING_MPX) {
    GBytes *msg = mcp_mpx_build_error (told, !self->hello_sent);

    self->hello_sent = TRUE;
    mcp_conn_send_control (self, msg);
    g_bytes_unref (msg);
  }
  close_refused (self, logged);
}

static void
auth_parties (McpConn * self, const McpAuthParty ** caller,
    const McpAuthParty ** listener)
{
  *caller = self->cfg.initiator ? &self->me : &self->peer;
  *listener = self->cfg.initiator ? &self->peer : &self->me;
}

static void
send_proof (McpConn * self)
{
  const McpAuthParty *caller, *listener;
  guint8 proof[MCP_AUTH_PROOF_LEN];
  GBytes *msg;

  auth_parties (self, &caller, &listener);
  mcp_auth_compute_proof (self->cfg.auth_secret, self->cfg.initiator, caller,
      listener, proof);
  msg = mcp_mpx_build_auth (proof);
  mcp_conn_send_control (self, msg);
  g_bytes_unref (msg);
  /* our half of the handshake is out */
  self->subs_may_send = TRUE;
  send_subscriptions (self);
}

/* The caller proves first; the listener answers with its own proof only
 * to a caller that passed, so a stranger learns nothing to test guesses
 * of the secret against. */
static void
handle_auth (McpConn * self, const guint8 * proof)
{
  const McpAuthParty *caller, *listener;
  guint8 expected[MCP_AUTH_PROOF_LEN];

  if (!self->awaiting_proof) {
    close_refused (self, "bad input: unexpected AUTH message");
    return;
  }
  auth_parties (self, &caller, &listener);
  mcp_auth_compute_proof (self->cfg.auth_secret, !self->cfg.initiator,
      caller, listener, expected);
  if (!mcp_auth_proof_equal (proof, expected)) {
    if (self->cfg.initiator)
      close_refused (self, "authentication failed: the listener does not "
          "know the shared secret (a different auth-secret?)");
    else
      refuse (self, "authentication failed",
          "authentication failed: the peer does not know the shared secret "
          "(a different auth-secret?)");
    return;
  }
  self->awaiting_proof = FALSE;
  if (!self->cfg.initiator)
    send_proof (self);
  become_ready (self);
}

/* A peer that cannot take part in the handshake at all. */
static void
refuse_unauthenticated (McpConn * self, const gchar * what)
{
  gchar *reason = g_strdup_printf ("authentication required, but %s", what);

  close_refused (self, reason);
  g_free (reason);
}

/* A SUBSCRIBE or UNSUBSCRIBE: FALSE when it closed the connection. Each
 * applies to the state of its origin (0 without the extension); the
 * peer's subscriptions are the union of those states. */
static gboolean
handle_subscribe (McpConn * self, McpDecodeResult kind, const McpMessage * msg)
{
  guint64 origin = msg->sub_origin;
  OriginSubs *cur;
  McpSubSet *next, *all;
  GHashTableIter it;
  OriginSubs *o;
  GError *err = NULL;
  gboolean changed;

  if (!self->ready) {
    close_refused (self, "bad input: a subscription before the handshake "
        "completed");
    return FALSE;
  }
  cur = g_hash_table_lookup (self->peer_origins, &origin);
  next = msg->sub_replace || !cur ? mcp_sub_set_new () :
      mcp_sub_set_copy (cur->set);
  if (!mcp_sub_set_apply_wire (next, msg->payload, msg->payload_len,
          kind == MCP_DECODE_UNSUBSCRIBE, &err)) {
    mcp_sub_set_free (next);
    close_with_error (self, "bad input", err);
    g_error_free (err);
    return FALSE;
  }
  if (mcp_sub_set_is_empty (next)) {
    /* an origin with nothing left is withdrawn */
    mcp_sub_set_free (next);
    changed = g_hash_table_remove (self->peer_origins, &origin);
  } else if (cur && cur->distance == msg->sub_distance
      && mcp_sub_set_equal (cur->set, next)) {
    mcp_sub_set_free (next);
    changed = FALSE;
  } else {
    if (!cur && g_hash_table_size (self->peer_origins) >=
        MCP_CONN_MAX_SUB_ORIGINS) {
      gchar *reason = g_strdup_printf ("bad input: bad subscription: "
          "subscriptions of more than %u origins", MCP_CONN_MAX_SUB_ORIGINS);

      mcp_sub_set_free (next);
      mcp_conn_close (self, reason);
      g_free (reason);
      return FALSE;
    }
    origin_table_put (self->peer_origins, origin, msg->sub_distance, next);
    changed = TRUE;
  }
  /* a peer that subscribes takes part, announced or not */
  if (!self->peer_subs)
    changed = TRUE;
  if (!changed)
    return TRUE;

  all = mcp_sub_set_new ();
  g_hash_table_iter_init (&it, self->peer_origins);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & o))
    mcp_sub_set_add_all (all, o->set);
  if (mcp_sub_set_size (all) > MCP_SUB_MAX_ENTRIES) {
    gchar *reason = g_strdup_printf ("bad input: bad subscription: more "
        "than %u entries over all origins", MCP_SUB_MAX_ENTRIES);

    mcp_sub_set_free (all);
    mcp_conn_close (self, reason);
    g_free (reason);
    return FALSE;
  }
  mcp_sub_set_free (self->peer_subs);
  self->peer_subs = all;
  if (self->funcs.subscriptions)
    self->funcs.subscriptions (self, self->user_data);
  return !self->closed;
}

static void
handle_hello (McpConn * self, const McpHello * hello)
{
  /* a source talks to a receiver, a mesh peer to a peer */
  McpRole expected = self->cfg.role == MCP_ROLE_SOURCE ? MCP_ROLE_RECEIVER :
      self->cfg.role == MCP_ROLE_RECEIVER ? MCP_ROLE_SOURCE : MCP_ROLE_PEER;

  if (hello->role != expected) {
    gchar *reason = g_strdup_printf ("peer announced itself as a %s, "
        "but this end is a %s and needs a %s",
        mcp_role_to_string (hello->role), mcp_role_to_string (self->cfg.role),
        mcp_role_to_string (expected));

    close_refused (self, reason);
    g_free (reason);
    return;
  }
  self->peer_id = hello->peer_id;
  g_free (self->peer_caps);
  self->peer_caps = g_strdup (hello->caps);
  self->peer_features = hello->features;
  if (hello->features & MCP_FEATURE_SUBSCRIPTIONS)
    self->peer_subs = mcp_sub_set_new ();
  if (!self->cfg.auth_secret) {
    if (!self->hello_sent)
      send_hello (self);
    become_ready (self);
    return;
  }

  if (!hello->has_auth_nonce) {
    if (self->cfg.initiator)
      close_refused (self, "authentication required, but the listener "
          "does not offer it (no auth-secret there?)");
    else
      refuse (self, "authentication required: this port needs the shared "
          "secret (auth-secret)", "authentication required, but the peer "
          "did not offer it (no auth-secret there?)");
    return;
  }
  self->peer.role = hello->role;
  self->peer.peer_id = hello->peer_id;
  memcpy (self->peer.nonce, hello->auth_nonce, MCP_AUTH_NONCE_LEN);
  self->awaiting_proof = TRUE;
  if (self->cfg.initiator)
    send_proof (self);
  else
    send_hello (self);
}

/* ---- HTTP clients of an AUTO acceptor ------------------------------------ */

void
mcp_conn_http_respond (McpConn * self, GBytes * response, gboolean stream,
    const gchar * reason)
{
  if (self->closed || self->finish_reason)
    return;
  mcp_conn_send_control (self, response);
  if (stream)
    become_ready (self);
  else if (!self->closed)
    mcp_conn_finish (self, reason);
}

void
mcp_conn_http_upgrade (McpConn * self, GBytes * response)
{
  if (self->closed || self->finish_reason)
    return;
  mcp_conn_send_control (self, response);
  if (self->closed)
    return;
  /* the caller's HELLO comes next, in mpx */
  self->http = HTTP_NO;
  mcp_decoder_set_framing (self->dec, MCP_FRAMING_MPX);
  set_timer (self, TIMER_HANDSHAKE, self->cfg.handshake_timeout);
  process_input (self);
}

/* Initiator with upgrade_path: the gateway's answer to our request. TRUE:
 * switched to mpx, decode on; FALSE: more is needed, or it refused. */
static gboolean
process_upgrade (McpConn * self)
{
  gsize len, head_len;
  const guint8 *p = mcp_decoder_peek (self->dec, &len);
  const guint8 *end = len >= 4 ?
      (const guint8 *) g_strstr_len ((const gchar *) p,
      MIN (len, MCP_HTTP_MAX_HEAD), "\r\n\r\n") : NULL;
  guint status = 0;
  gchar *line, *reason;

  if (!end) {
    if (len >= MCP_HTTP_MAX_HEAD || (len > 0 && memchr (p, 0, len)))
      close_refused (self, "bad input: the gateway's answer is no HTTP");
    return FALSE;
  }
  head_len = end + 4 - p;
  line = g_strndup ((const gchar *) p, strcspn ((const gchar *) p, "\r"));
  if (sscanf (line, "HTTP/1.%*u %u", &status) != 1)
    status = 0;
  if (status == 101) {
    g_free (line);
    mcp_decoder_skip (self->dec, head_len);
    self->http = HTTP_NO;
    send_hello (self);
    return TRUE;
  }
  /* the one-line reason of its body, as far as it came */
  {
    gsize body_len = len - head_len;
    gchar *body = g_strndup ((const gchar *) p + head_len, MIN (body_len,
            200));

    body[strcspn (body, "\r\n")] = '\0';
    /* our gateway's body is its status line with the reason */
    reason = g_strdup_printf ("the gateway refused %s: %s",
        self->upgrade_path, *body ? body : status ? line + 9 : line);
    g_strdelimit (reason, "\t", ' ');
    g_free (body);
  }
  close_refused (self, reason);
  g_free (reason);
  g_free (line);
  return FALSE;
}

static void
http_refuse (McpConn * self, guint version_minor, guint status,
    const gchar * extra, gboolean with_body, const gchar * reason)
{
  GBytes *msg = mcp_http_response (version_minor, status, NULL, NULL, extra,
      with_body);

  mcp_conn_http_respond (self, msg, FALSE, reason);
  g_bytes_unref (msg);
}

static void
http_take_request (McpConn * self, McpHttpRequest * req)
{
  gboolean head = strcmp (req->method, "HEAD") == 0;

  if (self->cfg.auth_secret) {
    self->refused = TRUE;
    http_refuse (self, req->version_minor, 403, NULL, !head,
        "authentication required, but the peer speaks HTTP");
  } else if (!head && strcmp (req->method, "GET") != 0) {
    gchar *reason = g_strdup_printf ("HTTP method %s not allowed",
        req->method);

    http_refuse (self, req->version_minor, 405, "Allow: GET, HEAD\r\n",
        TRUE, reason);
    g_free (reason);
  } else {
    self->funcs.http_request (self, req, self->user_data);
  }
}

/* An AUTO acceptor that may get an HTTP request. TRUE: not HTTP, decode
 * on; FALSE: the input was taken, or more is needed. */
static gboolean
process_http (McpConn * self)
{
  gsize len, head_len = 0;
  const guint8 *p = mcp_decoder_peek (self->dec, &len);
  McpHttpRequest *req = NULL;
  GError *err = NULL;
  McpHttpParseResult r;

  if (self->http == HTTP_ANSWERING) {
    /* nothing follows a request that we would read */
    mcp_decoder_skip (self->dec, len);
    return FALSE;
  }
  if (self->http == HTTP_UNDECIDED) {
    switch (mcp_http_detect (p, len)) {
      case MCP_HTTP_DETECT_NO:
        /* http_only: refused once the decoder tells mpx from raw */
        self->http = HTTP_NO;
        return TRUE;
      case MCP_HTTP_DETECT_MAYBE:
        return FALSE;
      case MCP_HTTP_DETECT_YES:
        self->http = HTTP_READING;
        set_timer (self, TIMER_HANDSHAKE, self->cfg.handshake_timeout);
        break;
    }
  }
  r = mcp_http_parse_request (p, len, &req, &head_len, &err);
  if (r == MCP_HTTP_PARSE_NEED_MORE)
    return FALSE;
  self->http = HTTP_ANSWERING;
  set_timer (self, TIMER_NONE, 0);
  mcp_decoder_set_framing (self->dec, MCP_FRAMING_RAW);
  mcp_decoder_skip (self->dec, len);
  if (r == MCP_HTTP_PARSE_ERROR) {
    gchar *reason = g_strdup_printf ("bad HTTP request: %s", err->message);

    self->refused = TRUE;
    http_refuse (self, 0, 400, NULL, TRUE, reason);
    g_free (reason);
    g_error_free (err);
  } else {
    http_take_request (self, req);
    mcp_http_request_free (req);
  }
  return FALSE;
}

/* ---- input ------------------------------------------------------------- */

static void
process_input (McpConn * self)
{
  while (!self->closed && self->reading) {
    McpFraming before;
    McpMessage msg;
    GError *err = NULL;
    McpDecodeResult r;

    if (self->http == HTTP_UPGRADING) {
      if (!process_upgrade (self))
        return;
    } else if (self->http != HTTP_NO && (self->http != HTTP_UNDECIDED
            || mcp_decoder_get_framing (self->dec) == MCP_FRAMING_AUTO)
        && !process_http (self)) {
      return;
    }
    before = mcp_decoder_get_framing (self->dec);
    r = mcp_decoder_next (self->dec, &msg, &err);

    if (before == MCP_FRAMING_AUTO) {
      McpFraming now = mcp_decoder_get_framing (self->dec);

      if (self->cfg.http_only && now == MCP_FRAMING_MPX) {
        /* an mcastproxy receiver that did not say which channel */
        refuse (self, "this port serves HTTP only (a channel gateway?): ask "
            "for a channel with path=/udp/GROUP:PORT",
            "refused an mpx peer: this port serves HTTP only");
        return;
      } else if (self->cfg.http_only && now == MCP_FRAMING_RAW) {
        close_refused (self, "bad input: not an HTTP request");
        return;
      } else if (now == MCP_FRAMING_RAW) {
        if (self->cfg.auth_secret)
          refuse_unauthenticated (self, "the peer does not speak mpx");
        else
          become_ready (self);
      } else if (now == MCP_FRAMING_MPX && self->timer != TIMER_HANDSHAKE) {
        set_timer (self, TIMER_HANDSHAKE, self->cfg.handshake_timeout);
      }
      if (self->closed)
        break;
    }

    switch (r) {
      case MCP_DECODE_NEED_MORE:
        return;
      case MCP_DECODE_ERROR:
        self->refused = !self->ready;
        close_with_error (self, "bad input", err);
        g_error_free (err);
        return;
      case MCP_DECODE_HELLO:
        handle_hello (self, &msg.hello);
        break;
      case MCP_DECODE_CAPS:
        g_free (self->peer_caps);
        self->peer_caps = g_strdup (msg.caps);
        /* fall through */
      case MCP_DECODE_DATA:
        if (!self->ready) {
          /* an mpx peer that sends before the handshake ended */
          close_refused (self, "bad input: data before the handshake "
              "completed");
          return;
        }
        if (!self->cfg.discard_input)
          self->funcs.message (self, r, &msg, self->user_data);
        break;
      case MCP_DECODE_SUBSCRIBE:
      case MCP_DECODE_UNSUBSCRIBE:
        if (!handle_subscribe (self, r, &msg))
          return;
        break;
      case MCP_DECODE_KEEPALIVE:
        break;
      case MCP_DECODE_AUTH:
        handle_auth (self, msg.auth_proof);
        break;
      case MCP_DECODE_PEER_ERROR:{
        gchar *reason = g_strdup_printf ("peer closed: %s",
            *msg.reason ? msg.reason : "(no reason given)");

        mcp_conn_close (self, reason);
        g_free (reason);
        return;
      }
    }
  }
}

/* Finishing: what the peer still sends is read and dropped until it
 * closes its side. */
static void
finish_read (McpConn * self)
{
  if (discard_input (self->socket))
    mcp_conn_close (self, self->finish_reason);
}

/* Finishing, once all we had to send is out: end our direction. */
static void
finish_shutdown (McpConn * self)
{
  if (self->write_shut || self->ctl->len > 0)
    return;
  self->write_shut = TRUE;
  g_socket_shutdown (self->socket, FALSE, TRUE, NULL);
}

void
mcp_conn_finish (McpConn * self, const gchar * reason)
{
  if (self->closed || self->finish_reason)
    return;
  self->finish_reason = g_strdup (reason);
  self->ready = FALSE;
  self->tls_detecting = FALSE;
  mcp_conn_ref (self);
  flush_control (self);
  if (!self->closed) {
    finish_shutdown (self);
    self->reading = TRUE;
    update_events (self);
    set_timer (self, TIMER_LINGER, LINGER_TIMEOUT);
    finish_read (self);
  }
  mcp_conn_unref (self);
}

static void
read_socket (McpConn * self)
{
  gsize budget = READ_BUDGET;

  while (!self->closed && self->reading && budget > 0) {
    GError *err = NULL;
    gsize avail;
    guint8 *buf;
    gssize n;

    if (self->finish_reason) {
      finish_read (self);
      return;
    }
    buf = mcp_decoder_reserve (self->dec, READ_CHUNK, &avail);
    n = stream_receive (self, buf, MIN (avail, budget), &err);

    if (n < 0) {
      if (!g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        close_with_error (self, "read failed", err);
      g_error_free (err);
      return;
    }
    if (n == 0) {
      if (self->http == HTTP_READING) {
        mcp_conn_close (self, "peer closed inside its HTTP request");
      } else if (!mcp_decoder_finish (self->dec, &err)) {
        close_with_error (self, "bad input", err);
        g_error_free (err);
      } else {
        mcp_conn_close (self, "peer closed the connection");
      }
      return;
    }
    mcp_decoder_commit (self->dec, n);
    self->bytes_in += n;
    budget -= n;
    process_input (self);
  }
  if (budget == 0 && !self->closed && self->reading)
    kick (self);
}

static void
check_liveness (McpConn * self)
{
  gint64 now = g_get_monotonic_time ();

  if (self->bytes_in != self->seen_in || !self->reading
      || (self->reader && !self->reader_waiting)) {
    /* while we do not read, the peer's silence proves nothing */
    self->seen_in = self->bytes_in;
    self->moved_in = now;
  }
  if (self->bytes_out != self->seen_out) {
    self->seen_out = self->bytes_out;
    self->moved_out = now;
  }
  if (self->cfg.peer_timeout
      && (guint64) (now - self->moved_in) * 1000 >= self->cfg.peer_timeout) {
    gchar *reason = g_strdup_printf ("peer silent for %" G_GINT64_FORMAT
        " ms (peer-timeout %" G_GUINT64_FORMAT " ms)",
        (now - self->moved_in) / 1000, self->cfg.peer_timeout / 1000000);

    mcp_conn_close (self, reason);
    g_free (reason);
    return;
  }
  if (self->cfg.keepalive_interval && !self->want_write
      && self->ctl->len == 0
      && (guint64) (now - self->moved_out) * 1000 >=
      self->cfg.keepalive_interval
      && (!self->funcs.at_frame_boundary
          || self->funcs.at_frame_boundary (self, self->user_data))) {
    GBytes *msg = mcp_mpx_build_keepalive ();

    mcp_conn_send_control (self, msg);
    g_bytes_unref (msg);
  }
  if (!self->closed)
    set_timer (self, TIMER_LIVENESS, liveness_period (self));
}

static void
timer_fired (McpConn * self)
{
  TimerKind kind = self->timer;

  set_timer (self, TIMER_NONE, 0);
  if (kind == TIMER_DETECT) {
    /* Bytes that came in time but were not read yet (the thread was busy
     * elsewhere) are no silence: they decide first. */
    if (self->reading && !self->tls
        && (g_socket_condition_check (self->socket, G_IO_IN) & G_IO_IN)) {
      read_socket (self);
      if (self->closed || self->ready
          || mcp_decoder_get_framing (self->dec) != MCP_FRAMING_AUTO
          || (self->http != HTTP_NO && self->http != HTTP_UNDECIDED))
        return;
    }
    /* A client that says nothing is a plain player. */
    mcp_decoder_set_framing (self->dec, MCP_FRAMING_RAW);
    if (self->cfg.auth_secret) {
      refuse_unauthenticated (self, "the peer said nothing (a plain "
          "player?)");
      return;
    }
    become_ready (self);
    process_input (self);
  } else if (kind == TIMER_LIVENESS) {
    check_liveness (self);
  } else if (kind == TIMER_LINGER) {
    mcp_conn_close (self, self->finish_reason);
  } else if (kind == TIMER_TLS_DETECT) {
    self->tls_detecting = FALSE;
    if (self->cfg.tls_optional) {
      /* silence: a plain player (it reads and never speaks) */
      start_framing (self);
    } else {
      gchar *reason = g_strdup_printf ("TLS handshake not completed within %"
          G_GUINT64_FORMAT " ms", self->cfg.handshake_timeout / 1000000);

      close_refused (self, reason);
      g_free (reason);
    }
  } else if (kind == TIMER_HANDSHAKE) {
    gchar *reason = g_strdup_printf ("%s within %" G_GUINT64_FORMAT " ms",
        self->tls_handshaking ? "TLS handshake not completed" :
        self->awaiting_proof ? "authentication not completed" :
        self->http == HTTP_READING ? "HTTP request not complete" :
        self->http == HTTP_UPGRADING ? "no answer from the gateway" :
        self->bytes_in ? "no mpx HELLO" : "peer sent nothing",
        self->cfg.handshake_timeout / 1000000);

    close_refused (self, reason);
    g_free (reason);
  }
}

/* ---- input read by another thread ------------------------------------- */

void
mcp_conn_unset_reader (McpConn * self)
{
  if (!self->reader)
    return;
  self->reader = FALSE;
  self->reader_waiting = FALSE;
  self->reader_check = -1;
  update_events (self);
  arm_source (self);
}

void
mcp_conn_set_reader (McpConn * self, McpWakeup * wakeup)
{
  g_return_if_fail (self->cfg.lock != NULL && wakeup != NULL);
  if (self->closed || !self->ready || self->reader)
    return;
  self->reader = TRUE;
  self->reader_wakeup = wakeup;
  self->reader_waiting = FALSE;
  self->reader_seen = self->reader_reads;
  self->reader_check = g_get_monotonic_time () + READER_CHECK_US;
  update_events (self);
  arm_source (self);
}

gboolean
mcp_conn_has_reader (McpConn * self)
{
  return self->reader && !self->closed;
}

gboolean
mcp_conn_reader_wait (McpConn * self, gint * fd)
{
  *fd = -1;
  if (!mcp_conn_has_reader (self))
    return TRUE;
  if (self->kick && self->reading)
    return FALSE;
  if (self->reading) {
    self->reader_waiting = TRUE;
    *fd = g_socket_get_fd (self->socket);
  }
  return TRUE;
}

void
mcp_conn_reader_read (McpConn * self)
{
  if (!mcp_conn_has_reader (self))
    return;
  self->reader_waiting = FALSE;
  self->reader_reads++;
  if (self->reader_check == -1) {
    /* back after a quiet spell: look after it again */
    self->reader_check = g_get_monotonic_time () + READER_CHECK_US;
    arm_source (self);
  }
  self->kick = FALSE;
  mcp_conn_ref (self);
  self->in_reader = TRUE;
  read_socket (self);
  self->in_reader = FALSE;
  mcp_conn_unref (self);
}

/* ctx's thread, every READER_CHECK_US while a reader has the input. */
static void
check_reader (McpConn * self)
{
  gboolean has_read = self->reader_reads != self->reader_seen;

  self->reader_seen = self->reader_reads;
  if (!has_read && !self->reader_waiting) {
    /* away: read here until it comes back and takes the input again */
    mcp_conn_unset_reader (self);
    mcp_wakeup_set (self->reader_wakeup);
    return;
  }
  /* idle (waiting, nothing came): no need to look until it reads */
  self->reader_check = has_read ? g_get_monotonic_time () + READER_CHECK_US :
      -1;
  arm_source (self);
}

typedef struct
{
  GSource source;
  McpConn *conn;                /* not a reference: the conn owns the source */
  GRecMutex *lock;              /* conn->cfg.lock, readable after conn died */
} ConnSource;

static gboolean
conn_dispatch (GSource * source, GSourceFunc callback, gpointer user_data)
{
  McpConn *self;
  GRecMutex *lock = ((ConnSource *) source)->lock;
  GIOCondition revents = 0;
  gboolean kicked;

  if (lock)
    g_rec_mutex_lock (lock);
  /* Whoever holds the lock on another thread may have closed and freed the
   * connection while this dispatch waited for it (closing destroys the
   * source first, under the lock). */
  if (g_source_is_destroyed (source)) {
    if (lock)
      g_rec_mutex_unlock (lock);
    return G_SOURCE_REMOVE;
  }
  self = ((ConnSource *) source)->conn;
  mcp_conn_ref (self);
  if (self->close_pending) {
    mcp_conn_close (self, NULL);
    goto out;
  }
  if (self->fd_tag)
    revents = g_source_query_unix_fd (source, self->fd_tag);
  kicked = self->kick && !self->reader;
  if (kicked) {
    self->kick = FALSE;
    arm_source (self);
  }

  if (self->tls_detecting) {
    if (revents & (G_IO_IN | G_IO_HUP | G_IO_ERR))
      tls_detect (self);
  } else if ((revents & (G_IO_IN | G_IO_HUP | G_IO_ERR)) || kicked) {
    read_socket (self);
  }
  if (!self->closed && (revents & G_IO_OUT)) {
    set_want_write (self, FALSE);
    if (flush_control (self) && self->finish_reason)
      finish_shutdown (self);
    else if (!self->closed && self->ready && !self->ctl->len
        && self->funcs.writable)
      self->funcs.writable (self, self->user_data);
  }
  if (!self->closed && self->timer != TIMER_NONE && self->deadline != -1
      && g_get_monotonic_time () >= self->deadline)
    timer_fired (self);
  if (!self->closed && self->reader && self->reader_check != -1
      && g_get_monotonic_time () >= self->reader_check)
    check_reader (self);
out:
  mcp_conn_unref (self);
  if (lock)
    g_rec_mutex_unlock (lock);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs conn_source_funcs = {
  NULL, NULL, conn_dispatch, NULL,
};

static void
update_events (McpConn * self)
{
  GIOCondition events = 0;

  if (!self->source || self->closed)
    return;
  /* the TLS handshake watches the socket by itself; a reader, for input */
  if (self->reading && !self->tls_handshaking && !self->reader)
    events |= G_IO_IN;
  if (self->want_write)
    events |= G_IO_OUT;
  if (events == self->events && (self->fd_tag != NULL) == (events != 0))
    return;
  self->events = events;
  /* poll() reports a hang-up even for no events: unpoll the socket while
   * nothing is wanted from it. */
  if (events == 0) {
    if (self->fd_tag)
      g_source_remove_unix_fd (self->source, self->fd_tag);
    self->fd_tag = NULL;
  } else if (self->fd_tag) {
    g_source_modify_unix_fd (self->source, self->fd_tag, events);
  } else {
    self->fd_tag = g_source_add_unix_fd (self->source,
        g_socket_get_fd (self->socket), events);
  }
}

void
mcp_conn_set_reading (McpConn * self, gboolean reading)
{
  if (self->reading == reading || self->closed)
    return;
  self->reading = reading;
  update_events (self);
  /* a reader waiting without the socket must now watch it */
  if (reading && self->reader)
    mcp_wakeup_set (self->reader_wakeup);
  if (reading && self->dec) {
    mcp_conn_ref (self);
    process_input (self);
    kick (self);
    mcp_conn_unref (self);
  }
}

/* Plain TCP, or TLS once its handshake is done: the framing's turn. */
static void
start_framing (McpConn * self)
{
  switch (self->cfg.framing) {
    case MCP_FRAMING_RAW:
    case MCP_FRAMING_RFC4571:
      if (self->cfg.auth_secret)
        refuse_unauthenticated (self, "this end is set to speak "
            "raw or rfc4571, which cannot authenticate");
      else
        become_ready (self);
      break;
    case MCP_FRAMING_MPX:
      if (self->cfg.initiator && self->upgrade_path) {
        /* first the channel, from a gateway: HELLO once it agreed */
        gchar *req = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: %s\r\n"
            "Connection: Upgrade\r\nUpgrade: " MCP_HTTP_UPGRADE_MPX "\r\n"
            "User-Agent: mcastproxy\r\n\r\n", self->upgrade_path,
            self->upgrade_host ? self->upgrade_host : "localhost");
        GBytes *msg = g_bytes_new_take (req, strlen (req));

        self->http = HTTP_UPGRADING;
        mcp_conn_send_control (self, msg);
        g_bytes_unref (msg);
      } else if (self->cfg.initiator) {
        send_hello (self);
      }
      set_timer (self, TIMER_HANDSHAKE, self->cfg.handshake_timeout);
      break;
    case MCP_FRAMING_AUTO:
      if (self->cfg.initiator)
        send_hello (self);
      else if (self->cfg.detect_timeout)
        set_timer (self, TIMER_DETECT, self->cfg.detect_timeout);
      else
        set_timer (self, TIMER_HANDSHAKE, self->cfg.handshake_timeout);
      break;
  }
}

static void
tls_handshake_done (GObject * object, GAsyncResult * result, gpointer data)
{
  McpConn *self = data;
  GRecMutex *lock = self->cfg.lock;
  GError *err = NULL;
  gboolean ok = g_tls_connection_handshake_finish (G_TLS_CONNECTION (object),
      result, &err);

  if (lock)
    g_rec_mutex_lock (lock);
  if (!self->closed) {
    if (ok) {
      self->tls_handshaking = FALSE;
      set_timer (self, TIMER_NONE, 0);
      update_events (self);
      start_framing (self);
    } else {
      gchar *reason = mcp_tls_describe_error (self->tls, err);

      close_refused (self, reason);
      g_free (reason);
    }
  }
  g_clear_error (&err);
  if (lock)
    g_rec_mutex_unlock (lock);
  mcp_conn_unref (self);
}

static void
start_tls (McpConn * self)
{
  GError *err = NULL;

  self->tls = mcp_tls_wrap (self->cfg.tls, self->socket, self->tls_identity,
      &err);
  if (!self->tls) {
    close_with_error (self, "TLS set-up failed", err);
    g_error_free (err);
    return;
  }
  self->tls_in = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream
      (G_IO_STREAM (self->tls)));
  self->tls_out = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream
      (G_IO_STREAM (self->tls)));
  self->tls_cancel = g_cancellable_new ();
  self->tls_handshaking = TRUE;
  update_events (self);
  set_timer (self, TIMER_HANDSHAKE, self->cfg.handshake_timeout);
  g_main_context_push_thread_default (self->context);
  g_tls_connection_handshake_async (self->tls, G_PRIORITY_DEFAULT,
      self->tls_cancel, tls_handshake_done, mcp_conn_ref (self));
  g_main_context_pop_thread_default (self->context);
}

/* A client of a TLS listener that does not start TLS: an http:// player
 * is told in plain HTTP to use https://, anything else is closed. */
static void
refuse_plain (McpConn * self, const guint8 * first, gsize len)
{
  if (len > 0 && mcp_http_detect (first, len) != MCP_HTTP_DETECT_NO) {
    GBytes *msg = mcp_http_response (1, 400, "text/plain",
        "This port speaks TLS: use https://\n", NULL, TRUE);

    self->refused = TRUE;
    mcp_conn_send_control (self, msg);
    g_bytes_unref (msg);
    if (!self->closed)
      mcp_conn_finish (self, "refused plain HTTP on a TLS port (the client "
          "should use https://)");
  } else if (len > 0) {
    close_refused (self, "the client did not start TLS (a plain client on "
        "a TLS port? see tls-allow-plain)");
  } else {
    mcp_conn_close (self, "peer closed the connection");
  }
}

/* A TLS listener: a client that opens with a TLS handshake record gets
 * TLS; anything else is served in plain (tls_optional) or refused. Peeks,
 * so that the bytes stay. */
static void
tls_detect (McpConn * self)
{
  guint8 first[8];
  GError *err = NULL;
  GInputVector v = { first, sizeof (first) };
  gint flags = MSG_PEEK;
  gssize n = g_socket_receive_message (self->socket, NULL, &v, 1, NULL, NULL,
      &flags, NULL, &err);

  if (n < 0) {
    if (!g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
      close_with_error (self, "read failed", err);
    g_error_free (err);
    return;
  }
  self->tls_detecting = FALSE;
  set_timer (self, TIMER_NONE, 0);
  if (n >= 1 && first[0] == TLS_RECORD_HANDSHAKE)
    start_tls (self);
  else if (self->cfg.tls_optional)
    start_framing (self);
  else
    refuse_plain (self, first, n);
  if (!self->closed)
    update_events (self);
}

void
mcp_conn_start (McpConn * self)
{
  g_return_if_fail (!self->started);
  self->started = TRUE;
  self->dec = mcp_decoder_new (self->cfg.framing);

  self->source = g_source_new (&conn_source_funcs, sizeof (ConnSource));
  ((ConnSource *) self->source)->conn = self;
  ((ConnSource *) self->source)->lock = self->cfg.lock;
  g_source_set_name (self->source, "mcastproxy connection");
  g_source_attach (self->source, self->context);
  update_events (self);

  if (self->cfg.peer_timeout)
    mcp_tcp_set_keepalive (self->socket, self->cfg.peer_timeout);

  mcp_conn_ref (self);
  if (!self->cfg.tls) {
    start_framing (self);
  } else if (!self->cfg.initiator) {
    /* the first byte tells a TLS client from a plain one */
    self->tls_detecting = TRUE;
    set_timer (self, TIMER_TLS_DETECT, self->cfg.tls_optional
        && self->cfg.detect_timeout ? self->cfg.detect_timeout :
        self->cfg.handshake_timeout);
  } else {
    start_tls (self);
  }
  mcp_conn_unref (self);
}
