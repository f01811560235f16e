/* mcastproxy — one TCP connection of the proxy (see mcp-conn.h). */
#include "config.h"

#include "mcp-conn.h"
#include "mcp-address.h"
#include "mcp-auth.h"
#include "mcp-tcp.h"

#include <string.h>

/* Read at most this much per wake-up, so that one busy peer cannot starve
 * the others sharing the thread. */
#define READ_BUDGET (1024 * 1024)
#define READ_CHUNK (64 * 1024)

typedef enum
{
  TIMER_NONE,
  TIMER_DETECT,
  TIMER_HANDSHAKE,
  TIMER_LIVENESS,               /* ready: keepalives out, silence in */
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

  McpDecoder *dec;
  gboolean started;
  gboolean ready;
  gboolean closed;
  gboolean reading;
  gboolean want_write;
  gboolean hello_sent;
  gboolean awaiting_proof;      /* HELLOs exchanged, AUTH pending */
  gboolean authenticated;
  McpAuthParty me, peer;

  /* liveness: what the counters were at the last check, and when they
   * last moved */
  guint64 seen_in, seen_out;
  gint64 moved_in, moved_out;

  GByteArray *ctl;              /* control bytes not yet written */
  gsize ctl_off;

  gchar *peer_address;
  guint64 peer_id;
  gchar *peer_caps;
  guint64 bytes_in;
  guint64 bytes_out;
};

static void update_events (McpConn * self);
static void process_input (McpConn * self);

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
  self->funcs = *funcs;
  self->user_data = user_data;
  self->reading = TRUE;
  self->ctl = g_byte_array_new ();
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
  g_free (self->name);
  g_clear_pointer (&self->cfg.auth_secret, g_bytes_unref);
  g_free (self);
}

gboolean
mcp_conn_is_ready (McpConn * self)
{
  return self->ready && !self->closed;
}

gboolean
mcp_conn_is_authenticated (McpConn * self)
{
  return self->authenticated;
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

gpointer
mcp_conn_get_user_data (McpConn * self)
{
  return self->user_data;
}

void
mcp_conn_close (McpConn * self, const gchar * reason)
{
  if (self->closed)
    return;
  self->closed = TRUE;
  self->ready = FALSE;
  if (self->source) {
    g_source_destroy (self->source);
    g_clear_pointer (&self->source, g_source_unref);
    self->fd_tag = NULL;
  }
  g_socket_close (self->socket, NULL);
  mcp_conn_ref (self);
  self->funcs.closed (self, reason, self->user_data);
  mcp_conn_unref (self);
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
set_timer (McpConn * self, TimerKind kind, guint64 timeout_ns)
{
  self->timer = kind;
  if (!self->source)
    return;
  if (kind == TIMER_NONE || timeout_ns == 0) {
    self->timer = TIMER_NONE;
    g_source_set_ready_time (self->source, -1);
  } else {
    g_source_set_ready_time (self->source,
        g_get_monotonic_time () + timeout_ns / 1000);
  }
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
    gssize n = g_socket_send (self->socket,
        (const gchar *) self->ctl->data + self->ctl_off,
        self->ctl->len - self->ctl_off, NULL, &err);

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

void
mcp_conn_send_control (McpConn * self, GBytes * bytes)
{
  gsize len;
  gconstpointer data = g_bytes_get_data (bytes, &len);

  if (self->closed)
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
  if (!flush_control (self))
    return self->closed ? -1 : 0;
  if (n == 0)
    return 0;

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
      self->cfg.auth_secret ? self->me.nonce : NULL);

  self->hello_sent = TRUE;
  mcp_conn_send_control (self, hello);
  g_bytes_unref (hello);
  g_free (caps);
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
  mcp_conn_close (self, logged);
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
    mcp_conn_close (self, "bad input: unexpected AUTH message");
    return;
  }
  auth_parties (self, &caller, &listener);
  mcp_auth_compute_proof (self->cfg.auth_secret, !self->cfg.initiator,
      caller, listener, expected);
  if (!mcp_auth_proof_equal (proof, expected)) {
    if (self->cfg.initiator)
      mcp_conn_close (self, "authentication failed: the listener does not "
          "know the shared secret (a different auth-secret?)");
    else
      refuse (self, "authentication failed",
          "authentication failed: the peer does not know the shared secret "
          "(a different auth-secret?)");
    return;
  }
  self->awaiting_proof = FALSE;
  self->authenticated = TRUE;
  if (!self->cfg.initiator)
    send_proof (self);
  become_ready (self);
}

/* A peer that cannot take part in the handshake at all. */
static void
refuse_unauthenticated (McpConn * self, const gchar * what)
{
  gchar *reason = g_strdup_printf ("authentication required, but %s", what);

  mcp_conn_close (self, reason);
  g_free (reason);
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

    mcp_conn_close (self, reason);
    g_free (reason);
    return;
  }
  self->peer_id = hello->peer_id;
  g_free (self->peer_caps);
  self->peer_caps = g_strdup (hello->caps);
  if (!self->cfg.auth_secret) {
    if (!self->hello_sent)
      send_hello (self);
    become_ready (self);
    return;
  }

  if (!hello->has_auth_nonce) {
    if (self->cfg.initiator)
      mcp_conn_close (self, "authentication required, but the listener "
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

/* ---- input ------------------------------------------------------------- */

static void
process_input (McpConn * self)
{
  while (!self->closed && self->reading) {
    McpFraming before = mcp_decoder_get_framing (self->dec);
    McpMessage msg;
    GError *err = NULL;
    McpDecodeResult r = mcp_decoder_next (self->dec, &msg, &err);

    if (before == MCP_FRAMING_AUTO) {
      McpFraming now = mcp_decoder_get_framing (self->dec);

      if (now == MCP_FRAMING_RAW) {
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
          mcp_conn_close (self, "bad input: data before the handshake "
              "completed");
          return;
        }
        if (!self->cfg.discard_input)
          self->funcs.message (self, r, &msg, self->user_data);
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

static void
read_socket (McpConn * self)
{
  gsize budget = READ_BUDGET;

  while (!self->closed && self->reading && budget > 0) {
    GError *err = NULL;
    gsize avail;
    guint8 *buf = mcp_decoder_reserve (self->dec, READ_CHUNK, &avail);
    gssize n = g_socket_receive (self->socket, (gchar *) buf,
        MIN (avail, budget), NULL, &err);

    if (n < 0) {
      if (!g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        close_with_error (self, "read failed", err);
      g_error_free (err);
      return;
    }
    if (n == 0) {
      if (!mcp_decoder_finish (self->dec, &err)) {
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
}

static void
check_liveness (McpConn * self)
{
  gint64 now = g_get_monotonic_time ();

  if (self->bytes_in != self->seen_in || !self->reading) {
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
  } else if (kind == TIMER_HANDSHAKE) {
    gchar *reason = g_strdup_printf ("%s within %" G_GUINT64_FORMAT " ms",
        self->bytes_in ? "no mpx HELLO" : "peer sent nothing",
        self->cfg.handshake_timeout / 1000000);

    mcp_conn_close (self, reason);
    g_free (reason);
  }
}

typedef struct
{
  GSource source;
  McpConn *conn;                /* not a reference: the conn owns the source */
} ConnSource;

static gboolean
conn_dispatch (GSource * source, GSourceFunc callback, gpointer user_data)
{
  McpConn *self = ((ConnSource *) source)->conn;
  GRecMutex *lock = self->cfg.lock;
  GIOCondition revents = 0;

  if (lock)
    g_rec_mutex_lock (lock);
  mcp_conn_ref (self);
  if (self->fd_tag)
    revents = g_source_query_unix_fd (source, self->fd_tag);

  if (revents & (G_IO_IN | G_IO_HUP | G_IO_ERR))
    read_socket (self);
  if (!self->closed && (revents & G_IO_OUT)) {
    set_want_write (self, FALSE);
    if (flush_control (self) && self->ready)
      self->funcs.writable (self, self->user_data);
  }
  if (!self->closed && self->timer != TIMER_NONE
      && g_source_get_ready_time (source) != -1
      && g_source_get_time (source) >= g_source_get_ready_time (source))
    timer_fired (self);
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
  if (self->reading)
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
  if (reading && self->dec) {
    mcp_conn_ref (self);
    process_input (self);
    mcp_conn_unref (self);
  }
}

void
mcp_conn_start (McpConn * self)
{
  McpFraming framing = self->cfg.framing;

  g_return_if_fail (!self->started);
  self->started = TRUE;
  self->dec = mcp_decoder_new (framing);

  self->source = g_source_new (&conn_source_funcs, sizeof (ConnSource));
  ((ConnSource *) self->source)->conn = self;
  g_source_set_name (self->source, "mcastproxy connection");
  g_source_attach (self->source, self->context);
  update_events (self);

  if (self->cfg.peer_timeout)
    mcp_tcp_set_keepalive (self->socket, self->cfg.peer_timeout);

  mcp_conn_ref (self);
  switch (framing) {
    case MCP_FRAMING_RAW:
    case MCP_FRAMING_RFC4571:
      if (self->cfg.auth_secret)
        refuse_unauthenticated (self, "this end is set to speak "
            "raw or rfc4571, which cannot authenticate");
      else
        become_ready (self);
      break;
    case MCP_FRAMING_MPX:
      if (self->cfg.initiator)
        send_hello (self);
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
  mcp_conn_unref (self);
}
