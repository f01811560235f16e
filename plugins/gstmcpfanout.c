/* mcastproxy — fan-out of datagrams to TCP connections (see gstmcpfanout.h).
 *
 * Every datagram becomes one ref-counted entry in a queue shared by all
 * connections; a connection is a position in that queue (plus a reference
 * to the entry it is half-way through). Writes carry many frames per call,
 * and a connection asks for writability only while its socket is full. The
 * queue is bounded in bytes and age: a connection that needed what was
 * dropped from the front gets the slow-client policy on its next turn, the
 * others never wait for it.
 *
 * Who writes: with a few connections the pushing thread writes at once (no
 * wake-up of another thread per datagram); with more, the endpoint's thread
 * serves them all in passes at most one coalescing interval apart, so that
 * each write carries every datagram that came meanwhile. The connections'
 * own work on the endpoint's thread runs under the same lock (see
 * McpConnConfig.lock), which makes writing from the pushing thread safe.
 */
#include "config.h"

#include "gstmcpfanout.h"
#include "gstmcphttp.h"

#include <gst/base/gstqueuearray.h>
#include <string.h>

#include "mcp-loopguard.h"
#include "mcp-ts.h"

GST_DEBUG_CATEGORY_STATIC (fanout_debug);
#define GST_CAT_DEFAULT fanout_debug

/* One write call carries at most this many datagrams or bytes. */
#define WRITE_MAX_ENTRIES 128
#define WRITE_MAX_BYTES (512 * 1024)
/* A client to be dropped first gets this long to take the rest of the
 * datagram it is in the middle of, so that its stream ends whole. */
#define DROP_GRACE_US (2 * G_USEC_PER_SEC)

/* Up to this many active connections the pushing thread writes itself. */
#define DIRECT_MAX_CLIENTS 4
/* Otherwise passes of the endpoint's thread start at least this long apart
 * per active connection (µs), and at most COALESCE_MAX_US apart. */
#define COALESCE_US_PER_CLIENT 20
#define COALESCE_MAX_US 20000

typedef enum
{
  ENTRY_DATA,
  ENTRY_CAPS,
} EntryKind;

typedef struct
{
  gint refcount;
  EntryKind kind;
  guint64 index;
  gint64 arrival;               /* monotonic, µs */
  guint64 bytes_before;         /* payload bytes queued before this one */
  guint64 origin;               /* origin id of the datagram */
  guint64 from;                 /* id of the connection it came from, or 0 */
  GstBuffer *buffer;
  GstMapInfo map;
  GBytes *control;              /* ENTRY_CAPS: the whole mpx CAPS message */
  gboolean oversize;            /* too large for framed connections */
  guint8 family;                /* of its group; 0: not known */
  guint16 port;
  guint8 group[16];
  gboolean has_source;          /* source is the original sender's */
  guint8 source[16];
  guint8 mpx_header[MCP_MPX_DATA_HEADER_MAX_LEN];
  guint8 mpx_header_len;
  guint8 len_header[MCP_RFC4571_HEADER_LEN];
} Entry;

struct _GstMcpFanoutClient
{
  GstMcpFanout *fo;
  McpConn *conn;
  guint64 id;                   /* unique, never reused */
  gchar *address;
  gint caller;
  guint64 peer_id;              /* from its HELLO; 0 when it sent none */
  gboolean active;              /* ready and positioned in the queue */
  gboolean standby;             /* another connection serves its peer id */
  McpFraming framing;
  guint64 next;                 /* index of the next entry to start */
  Entry *cur;                   /* entry being written, or NULL */
  gsize cur_off;                /* bytes of cur already written */
  gchar *hello_caps;            /* caps announced in our HELLO */
  guint64 datagrams;
  guint64 skipped;
  gint64 ready_at;              /* monotonic µs of its handshake's end */
  gchar *drop_reason;           /* to be dropped once cur is complete */
  gint64 drop_deadline;         /* ... or at this time (monotonic us) */
};

/* What the owner is to be told, in order: a client added or removed. */
typedef struct
{
  gboolean added;
  gboolean subscriptions;       /* neither: a client's subscriptions changed */
  GstMcpClientInfo info;        /* added; its address owned */
  GstMcpConnEnd r;              /* removed; its strings owned */
} Notice;

typedef struct
{
  GSource source;
  GstMcpFanout *fo;
} FlushSource;

struct _GstMcpFanout
{
  GstElement *owner;
  GstMcpFanoutFuncs funcs;
  gpointer user_data;
  McpEndpoint *endpoint;
  GSource *flush_source;
  gboolean stopping;

  /* Shared by the pushing threads and the endpoint's thread. Recursive:
   * a connection closing inside a write re-enters. own_lock, or the one
   * given to gst_mcp_fanout_new_shared(). */
  GRecMutex own_lock;
  GRecMutex *lock;
  guint64 max_bytes;
  guint64 max_time;             /* ns */
  GstMcpSlowClientPolicy policy;
  gboolean no_echo;
  gboolean one_per_peer;
  McpElection *election;        /* of the active connections' peer ids */
  GHashTable *filters;          /* guint64 peer id -> McpSubSet: what the
                                 * owner sends a peer, instead of what it
                                 * subscribed to (NULL: none) */
  GstQueueArray *queue;         /* Entry *, oldest first */
  guint64 front_index;          /* index of the oldest entry in queue */
  guint64 queue_bytes;
  guint64 bytes_queued;         /* payload bytes ever queued */
  GList *clients;               /* oldest last */
  guint n_active;
  guint64 next_id;
  gchar *caps;
  gboolean flush_pending;
  gint64 last_pass;             /* monotonic µs of the last pass's start */
  GQueue notices;               /* Notice: not yet told */
  gboolean notices_scheduled;

  /* fast start (gst_mcp_fanout_set_burst): raw clients start with prefix,
   * then the queue from burst_index */
  guint64 burst_max_bytes;      /* 0: no burst */
  Entry *burst_prefix;          /* NULL: no random-access point kept */
  guint64 burst_index;
  guint64 burst_bytes_base;     /* bytes_queued when it was marked */
  guint64 bursts;               /* clients that started with a burst */

  /* statistics */
  guint64 datagrams_sent;       /* of connections that already left */
  guint64 datagrams_skipped;
  guint64 oversize_dropped;
  guint64 clients_total;
  guint64 clients_dropped;
  guint64 bytes_sent;           /* of connections that already left */
  guint64 reconnects;
};

/* ---- entries ----------------------------------------------------------- */

static Entry *
entry_ref (Entry * e)
{
  g_atomic_int_inc (&e->refcount);
  return e;
}

static void
entry_unref (Entry * e)
{
  if (!g_atomic_int_dec_and_test (&e->refcount))
    return;
  if (e->buffer) {
    gst_buffer_unmap (e->buffer, &e->map);
    gst_buffer_unref (e->buffer);
  }
  if (e->control)
    g_bytes_unref (e->control);
  g_free (e);
}

static gsize
entry_payload_size (Entry * e)
{
  return e->kind == ENTRY_DATA ? e->map.size : g_bytes_get_size (e->control);
}

/* Whether connection c gets entry e at all. */
static gboolean
entry_is_for (GstMcpFanout * fo, Entry * e, GstMcpFanoutClient * c)
{
  if (e->kind == ENTRY_CAPS)
    return c->framing == MCP_FRAMING_MPX;
  if (e->from == c->id)
    return FALSE;
  if (fo->no_echo && c->peer_id != 0 && e->origin == c->peer_id)
    return FALSE;
  if (e->oversize && c->framing != MCP_FRAMING_RAW)
    return FALSE;
  if (fo->funcs.subscriptions && e->family != 0) {
    /* a peer that subscribes gets what it subscribed to, or what the
     * owner chose of it */
    const McpSubSet *subs = fo->filters ?
        g_hash_table_lookup (fo->filters, &c->peer_id) : NULL;

    if (!subs)
      subs = mcp_conn_get_peer_subscriptions (c->conn);

    if (subs && !mcp_sub_set_matches (subs, e->family, e->group, e->port,
            e->has_source ? e->source : NULL))
      return FALSE;
  }
  return TRUE;
}

/* Fills up to two vectors for entry e as connection c sees it, starting
 * skip bytes in, and returns how many (0 for an empty raw datagram). */
static guint
entry_vectors (Entry * e, McpFraming framing, gsize skip, GOutputVector * v,
    gsize * total)
{
  const guint8 *hdr = NULL;
  gsize hdr_len = 0, payload_len;
  const guint8 *payload;
  guint n = 0;

  if (e->kind == ENTRY_CAPS) {
    payload = g_bytes_get_data (e->control, &payload_len);
  } else {
    payload = e->map.data;
    payload_len = e->map.size;
    if (framing == MCP_FRAMING_MPX) {
      hdr = e->mpx_header;
      hdr_len = e->mpx_header_len;
    } else if (framing == MCP_FRAMING_RFC4571) {
      hdr = e->len_header;
      hdr_len = sizeof (e->len_header);
    }
  }
  *total = hdr_len + payload_len;

  if (skip < hdr_len) {
    v[n].buffer = hdr + skip;
    v[n].size = hdr_len - skip;
    n++;
    skip = 0;
  } else {
    skip -= hdr_len;
  }
  if (payload_len > skip) {
    v[n].buffer = payload + skip;
    v[n].size = payload_len - skip;
    n++;
  }
  return n;
}

/* ---- the queue (under lock) -------------------------------------------- */

static inline guint64
queue_end (GstMcpFanout * fo)
{
  return fo->front_index + gst_queue_array_get_length (fo->queue);
}

static inline Entry *
queue_at (GstMcpFanout * fo, guint64 index)
{
  return gst_queue_array_peek_nth (fo->queue, index - fo->front_index);
}

static void
queue_pop (GstMcpFanout * fo)
{
  Entry *e = gst_queue_array_pop_head (fo->queue);

  fo->queue_bytes -= entry_payload_size (e);
  fo->front_index++;
  entry_unref (e);
}

static void
queue_clear (GstMcpFanout * fo)
{
  while (gst_queue_array_get_length (fo->queue) > 0)
    queue_pop (fo);
}

/* Drops what every active connection has started already. */
static void
queue_trim (GstMcpFanout * fo)
{
  guint64 needed = queue_end (fo);
  GList *l;

  for (l = fo->clients; l; l = l->next) {
    GstMcpFanoutClient *c = l->data;

    if (c->active && !c->standby && c->next < needed)
      needed = c->next;
  }
  if (fo->burst_prefix && fo->burst_index < needed)
    needed = fo->burst_index;
  while (fo->front_index < needed && gst_queue_array_get_length (fo->queue) > 0)
    queue_pop (fo);
}

static void
burst_forget (GstMcpFanout * fo)
{
  if (fo->burst_prefix) {
    entry_unref (fo->burst_prefix);
    fo->burst_prefix = NULL;
  }
}

/* A pass of the endpoint's thread, right away if the last one was long
 * enough ago. */
static void
schedule_flush (GstMcpFanout * fo)
{
  gint64 interval, due;

  if (fo->flush_pending || !fo->flush_source)
    return;
  fo->flush_pending = TRUE;
  interval = MIN ((gint64) fo->n_active * COALESCE_US_PER_CLIENT,
      COALESCE_MAX_US);
  due = fo->last_pass + interval;
  g_source_set_ready_time (fo->flush_source,
      due > g_get_monotonic_time ()? due : 0);
}

static void
queue_push (GstMcpFanout * fo, Entry * e)
{
  e->index = queue_end (fo);
  e->bytes_before = fo->bytes_queued;
  fo->bytes_queued += entry_payload_size (e);
  gst_queue_array_push_tail (fo->queue, e);
  fo->queue_bytes += entry_payload_size (e);

  /* The burst kept since the last random-access point is bounded by
   * burst_max_bytes: beyond that there is no burst until the next one. */
  if (fo->burst_prefix
      && fo->bytes_queued - fo->burst_bytes_base > fo->burst_max_bytes)
    burst_forget (fo);

  /* The limits: whoever still needed a dropped entry is now behind and
   * gets the slow-client policy on its next turn. The newest entry stays,
   * and so does the burst (it is bounded by itself): the limits count what
   * lies before it. */
  while (gst_queue_array_get_length (fo->queue) > 1) {
    Entry *front = gst_queue_array_peek_head (fo->queue);
    guint64 burst_bytes = fo->burst_prefix ?
        fo->bytes_queued - fo->burst_bytes_base : 0;

    if (fo->burst_prefix && front->index >= fo->burst_index)
      break;
    if ((fo->max_bytes && fo->queue_bytes - burst_bytes > fo->max_bytes)
        || (fo->max_time
            && (guint64) (e->arrival - front->arrival) * 1000 > fo->max_time))
      queue_pop (fo);
    else
      break;
  }
}

/* ---- connections (endpoint thread, under lock) ------------------------- */

static void
client_free (GstMcpFanoutClient * c)
{
  if (c->cur)
    entry_unref (c->cur);
  if (c->conn)
    mcp_conn_unref (c->conn);
  g_free (c->address);
  g_free (c->hello_caps);
  g_free (c->drop_reason);
  g_free (c);
}

/* Applies the slow-client policy; FALSE when the connection was closed. */
static gboolean
client_check_lag (GstMcpFanout * fo, GstMcpFanoutClient * c)
{
  guint64 newest;

  if (c->drop_reason) {
    gchar *reason;

    /* the datagram it was in the middle of is out: the framing ends
     * whole; one that cannot even take that much is cut */
    if (c->cur && g_get_monotonic_time () < c->drop_deadline)
      return TRUE;
    if (c->cur) {
      reason = g_strdup_printf ("%s; could not take the rest of its current "
          "datagram either", c->drop_reason);
      mcp_conn_close (c->conn, reason);
      g_free (reason);
    } else {
      /* gracefully: a reset could cost it what it has not read yet */
      mcp_conn_finish (c->conn, c->drop_reason);
    }
    return FALSE;
  }

  if (c->next >= fo->front_index)
    return TRUE;

  if (fo->policy == GST_MCP_SLOW_CLIENT_DROP) {
    c->drop_reason = g_strdup_printf ("too slow: %" G_GUINT64_FORMAT
        " datagrams behind, beyond max-queue-bytes/max-queue-time",
        queue_end (fo) - c->next);
    c->drop_deadline = g_get_monotonic_time () + DROP_GRACE_US;
    fo->clients_dropped++;
    return client_check_lag (fo, c);
  }

  /* resync: continue with the newest datagram */
  newest = queue_end (fo) - 1;
  c->skipped += newest - c->next;
  fo->datagrams_skipped += newest - c->next;
  GST_INFO_OBJECT (fo->owner, "client %s too slow: skipped %" G_GUINT64_FORMAT
      " datagrams to the newest", c->address, newest - c->next);
  c->next = newest;
  return TRUE;
}

/* Writes what the connection is due until it is caught up or its socket is
 * full. */
static void
client_write (GstMcpFanout * fo, GstMcpFanoutClient * c)
{
  while (c->active && !c->standby && !mcp_conn_is_closed (c->conn)) {
    GOutputVector v[2 * WRITE_MAX_ENTRIES + 2];
    Entry *batch[WRITE_MAX_ENTRIES + 1];
    gsize sizes[WRITE_MAX_ENTRIES + 1];
    guint n_v = 0, n_e = 0, i;
    gsize total = 0;
    guint64 idx, end;
    gssize written;

    if (!client_check_lag (fo, c))
      return;

    if (c->cur) {
      n_v += entry_vectors (c->cur, c->framing, c->cur_off, v, &sizes[0]);
      batch[n_e] = c->cur;
      sizes[n_e] -= c->cur_off;
      total += sizes[n_e];
      n_e++;
    }
    end = queue_end (fo);
    for (idx = c->next; idx < end && n_e < WRITE_MAX_ENTRIES + 1
        && total < WRITE_MAX_BYTES && !c->drop_reason; idx++) {
      Entry *e = queue_at (fo, idx);

      if (!entry_is_for (fo, e, c)) {
        if (n_e == 0)
          c->next = idx + 1;
        continue;
      }
      n_v += entry_vectors (e, c->framing, 0, v + n_v, &sizes[n_e]);
      batch[n_e] = e;
      total += sizes[n_e];
      n_e++;
    }
    if (n_e == 0) {
      /* caught up, at a frame boundary: control messages that waited for
       * one (subscriptions) go now */
      if (!c->cur)
        mcp_conn_write (c->conn, NULL, 0);
      return;
    }

    written = total ? mcp_conn_write (c->conn, v, n_v) : 0;
    if (written < 0)
      return;                   /* closed; the closed callback cleaned up */

    /* Account for what went out. */
    for (i = 0; i < n_e; i++) {
      Entry *e = batch[i];
      gboolean is_cur = (i == 0 && e == c->cur);

      if ((gsize) written >= sizes[i]) {
        written -= sizes[i];
        if (e->kind == ENTRY_DATA)
          c->datagrams++;
        if (is_cur) {
          entry_unref (c->cur);
          c->cur = NULL;
          c->cur_off = 0;
        } else {
          c->next = e->index + 1;
        }
        continue;
      }
      /* partly written: remember where */
      if (is_cur) {
        c->cur_off += written;
      } else if (written > 0) {
        c->cur = entry_ref (e);
        c->cur_off = written;
        c->next = e->index + 1;
      }
      return;                   /* the socket is full; writable follows */
    }
  }
}

static void
client_activate (GstMcpFanout * fo, GstMcpFanoutClient * c)
{
  c->active = TRUE;
  c->ready_at = g_get_monotonic_time ();
  c->framing = mcp_conn_get_framing (c->conn);
  c->peer_id = mcp_conn_get_peer_id (c->conn);
  c->next = queue_end (fo);
  if (fo->burst_prefix && c->framing == MCP_FRAMING_RAW
      && fo->burst_index >= fo->front_index) {
    /* fast start: the stream's tables and the random-access point, then
     * everything since, at the client's pace */
    c->cur = entry_ref (fo->burst_prefix);
    c->cur_off = 0;
    c->next = fo->burst_index;
    fo->bursts++;
  }
  /* without one-per-peer it is not elected: it never stands by */
  c->standby = !mcp_election_join (fo->election,
      fo->one_per_peer ? c->peer_id : 0, c);
  fo->n_active++;
  if (c->standby)
    GST_INFO_OBJECT (fo->owner, "client %s stands by: peer %" G_GUINT64_FORMAT
        " is served on another connection", c->address, c->peer_id);
  if (c->framing == MCP_FRAMING_MPX && g_strcmp0 (c->hello_caps, fo->caps) != 0) {
    /* caps changed between our HELLO and now */
    GBytes *msg = mcp_mpx_build_caps (fo->caps);

    mcp_conn_send_control (c->conn, msg);
    g_bytes_unref (msg);
  }
  /* a burst goes out now, not with the next datagram (which a batching
   * source may hold back); last, as the write may remove c */
  if (c->cur && !c->standby)
    client_write (fo, c);
}

/* c leaves: a connection standing by for the same peer takes over, from
 * the next datagram on. */
static void
promote_twin (GstMcpFanout * fo, GstMcpFanoutClient * c)
{
  GstMcpFanoutClient *heir;

  if (!c->active)
    return;
  heir = mcp_election_leave (fo->election, c->peer_id, c);
  if (heir) {
    heir->standby = FALSE;
    heir->next = queue_end (fo);
    GST_INFO_OBJECT (fo->owner, "client %s takes over for peer %"
        G_GUINT64_FORMAT, heir->address, heir->peer_id);
    if (heir->framing == MCP_FRAMING_MPX
        && g_strcmp0 (heir->hello_caps, fo->caps) != 0) {
      /* caps changed while it stood by; nothing is half-sent yet */
      GBytes *msg = mcp_mpx_build_caps (fo->caps);

      g_free (heir->hello_caps);
      heir->hello_caps = g_strdup (fo->caps);
      mcp_conn_send_control (heir->conn, msg);
      g_bytes_unref (msg);
    }
  }
}

static void tell (GstMcpFanout * fo, Notice * n);

static gchar *
conn_hello_caps (McpConn * conn, gpointer user_data)
{
  GstMcpFanoutClient *c = user_data;
  GstMcpFanout *fo = c->fo;
  gchar *caps;

  g_rec_mutex_lock (fo->lock);
  caps = g_strdup (fo->caps);
  g_free (c->hello_caps);
  c->hello_caps = g_strdup (caps);
  g_rec_mutex_unlock (fo->lock);
  return caps;
}

static void
conn_ready (McpConn * conn, gpointer user_data)
{
  GstMcpFanoutClient *c = user_data;
  GstMcpFanout *fo = c->fo;

  g_rec_mutex_lock (fo->lock);
  client_activate (fo, c);
  g_rec_mutex_unlock (fo->lock);
  /* a failed write in client_activate may have removed the connection */
  if (mcp_conn_is_closed (conn))
    return;
  mcp_endpoint_reset_backoff (fo->endpoint, c->caller);
  GST_INFO_OBJECT (fo->owner, "client %s ready, framing %s", c->address,
      mcp_framing_to_string (c->framing));
  {
    Notice *n = g_new0 (Notice, 1);

    n->added = TRUE;
    n->info.address = g_strdup (c->address);
    n->info.framing = c->framing;
    n->info.peer_id = c->peer_id;
    n->info.caller = c->caller;
    tell (fo, n);
  }
}

static void
conn_message (McpConn * conn, McpDecodeResult kind, const McpMessage * msg,
    gpointer user_data)
{
  GstMcpFanoutClient *c = user_data;
  GstMcpFanout *fo = c->fo;

  if (fo->funcs.message)
    fo->funcs.message (fo, c, kind, msg, fo->user_data);
}

static void
conn_writable (McpConn * conn, gpointer user_data)
{
  GstMcpFanoutClient *c = user_data;
  GstMcpFanout *fo = c->fo;

  g_rec_mutex_lock (fo->lock);
  client_write (fo, c);
  queue_trim (fo);
  g_rec_mutex_unlock (fo->lock);
}

static void
notice_free (Notice * n)
{
  g_free ((gchar *) n->info.address);
  g_free ((gchar *) n->r.address);
  g_free ((gchar *) n->r.reason);
  g_free (n);
}

/* Tells the owner what happened, in order, lock-free. */
static void
flush_notices (GstMcpFanout * fo)
{
  for (;;) {
    Notice *n;

    g_rec_mutex_lock (fo->lock);
    n = g_queue_pop_head (&fo->notices);
    if (!n)
      fo->notices_scheduled = FALSE;
    g_rec_mutex_unlock (fo->lock);
    if (!n)
      break;
    if (n->added)
      fo->funcs.client_added (fo, &n->info, fo->user_data);
    else if (!n->subscriptions)
      fo->funcs.client_removed (fo, &n->r, fo->user_data);
    /* who is there and what they want may have changed */
    if (fo->funcs.subscriptions)
      fo->funcs.subscriptions (fo, fo->user_data);
    notice_free (n);
  }
}

static gboolean
flush_notices_idle (gpointer data)
{
  flush_notices (data);
  return G_SOURCE_REMOVE;
}

/* Connections become ready and close inside the connections' callbacks,
 * with the lock held (a close even in the middle of a write): the owner
 * hears of it from an idle callback on the endpoint's thread, where it may
 * emit signals; what is still pending at stop is told from stop(). */
static void
tell (GstMcpFanout * fo, Notice * n)
{
  gboolean schedule;

  g_rec_mutex_lock (fo->lock);
  g_queue_push_tail (&fo->notices, n);
  schedule = !fo->notices_scheduled;
  fo->notices_scheduled = TRUE;
  g_rec_mutex_unlock (fo->lock);

  if (fo->stopping) {
    flush_notices (fo);
  } else if (schedule) {
    GSource *idle = g_idle_source_new ();

    g_source_set_callback (idle, flush_notices_idle, fo, NULL);
    g_source_attach (idle, mcp_endpoint_get_context (fo->endpoint));
    g_source_unref (idle);
  }
}

static void
tell_removal (GstMcpFanout * fo, const GstMcpConnEnd * removal)
{
  Notice *n = g_new0 (Notice, 1);

  n->r = *removal;
  n->r.address = g_strdup (removal->address);
  n->r.reason = g_strdup (removal->reason);
  tell (fo, n);
}

static void
conn_closed (McpConn * conn, const gchar * reason, gpointer user_data)
{
  GstMcpFanoutClient *c = user_data;
  GstMcpFanout *fo = c->fo;
  GstMcpConnEnd removal = { c->address, reason, c->caller, c->active,
    mcp_conn_was_refused (conn), fo->stopping
  };

  g_rec_mutex_lock (fo->lock);
  promote_twin (fo, c);
  fo->clients = g_list_remove (fo->clients, c);
  if (c->active)
    fo->n_active--;
  fo->datagrams_sent += c->datagrams;
  fo->bytes_sent += mcp_conn_get_bytes_out (conn);
  if (c->caller != MCP_ENDPOINT_ACCEPTED && !fo->stopping)
    fo->reconnects++;
  g_rec_mutex_unlock (fo->lock);

  GST_INFO_OBJECT (fo->owner, "client %s removed after %" G_GUINT64_FORMAT
      " datagrams: %s", c->address, c->datagrams, reason);
  if (c->caller != MCP_ENDPOINT_ACCEPTED && !fo->stopping)
    mcp_endpoint_reconnect (fo->endpoint, c->caller);
  tell_removal (fo, &removal);
  c->conn = NULL;
  client_free (c);
  mcp_conn_unref (conn);
}

/* A KEEPALIVE must not land inside a half-written datagram. */
static gboolean
conn_at_frame_boundary (McpConn * conn, gpointer user_data)
{
  GstMcpFanoutClient *c = user_data;

  return c->cur == NULL;
}

/* A player's GET or HEAD (listeners with McpConnConfig.http_path). */
static void
conn_http_request (McpConn * conn, const McpHttpRequest * req,
    gpointer user_data)
{
  GstMcpFanoutClient *c = user_data;
  GstMcpFanout *fo = c->fo;

  if (fo->funcs.http_request)
    fo->funcs.http_request (fo, c, req, fo->user_data);
  else
    gst_mcp_http_answer (fo->owner, conn, req, fo->caps,
        mcp_endpoint_get_context (fo->endpoint));
}

static void
conn_subscriptions (McpConn * conn, gpointer user_data)
{
  GstMcpFanoutClient *c = user_data;
  Notice *n;

  if (!c->fo->funcs.subscriptions)
    return;
  n = g_new0 (Notice, 1);
  n->subscriptions = TRUE;
  tell (c->fo, n);
}

static const McpConnFuncs conn_funcs = {
  conn_ready,
  conn_message,
  conn_writable,
  conn_closed,
  conn_hello_caps,
  conn_at_frame_boundary,
  conn_http_request,
  conn_subscriptions,
};

/* Under lock: serves every connection that is not waiting for its socket,
 * applies the policy to those that are. */
static void
serve_all (GstMcpFanout * fo)
{
  GList *l, *next;

  for (l = fo->clients; l; l = next) {
    GstMcpFanoutClient *c = l->data;

    next = l->next;             /* c may leave during its write */
    if (!c->active || c->standby)
      continue;
    if (mcp_conn_is_write_blocked (c->conn))
      client_check_lag (fo, c);
    else
      client_write (fo, c);
  }
  queue_trim (fo);
}

/* Under lock, after queueing: gets what was queued written. */
static void
kick (GstMcpFanout * fo)
{
  if (fo->n_active <= DIRECT_MAX_CLIENTS && !fo->flush_pending
      && !mcp_endpoint_is_current_thread (fo->endpoint))
    serve_all (fo);
  else
    schedule_flush (fo);
}

static gboolean
flush_dispatch (GSource * source, GSourceFunc callback, gpointer user_data)
{
  GstMcpFanout *fo = ((FlushSource *) source)->fo;

  g_source_set_ready_time (source, -1);
  g_rec_mutex_lock (fo->lock);
  fo->flush_pending = FALSE;
  fo->last_pass = g_get_monotonic_time ();
  serve_all (fo);
  g_rec_mutex_unlock (fo->lock);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs flush_source_funcs = {
  NULL, NULL, flush_dispatch, NULL,
};

/* ---- API --------------------------------------------------------------- */

GstMcpFanout *
gst_mcp_fanout_new (GstElement * owner, const GstMcpFanoutFuncs * funcs,
    gpointer user_data)
{
  GstMcpFanout *fo = g_new0 (GstMcpFanout, 1);

  if (g_once_init_enter (&fanout_debug)) {
    GstDebugCategory *cat = NULL;

    GST_DEBUG_CATEGORY_INIT (cat, "mcastproxy-fanout", 0,
        "mcastproxy fan-out to TCP connections");
    g_once_init_leave (&fanout_debug, cat);
  }
  fo->owner = owner;
  fo->funcs = *funcs;
  fo->user_data = user_data;
  fo->policy = GST_MCP_SLOW_CLIENT_RESYNC;
  fo->no_echo = TRUE;
  fo->one_per_peer = TRUE;
  fo->election = mcp_election_new ();
  g_rec_mutex_init (&fo->own_lock);
  fo->lock = &fo->own_lock;
  g_queue_init (&fo->notices);
  fo->queue = gst_queue_array_new (1024);
  fo->next_id = 1;
  return fo;
}

GstMcpFanout *
gst_mcp_fanout_new_shared (GstElement * owner,
    const GstMcpFanoutFuncs * funcs, gpointer user_data, GRecMutex * lock)
{
  GstMcpFanout *fo = gst_mcp_fanout_new (owner, funcs, user_data);

  fo->lock = lock;
  return fo;
}

void
gst_mcp_fanout_free (GstMcpFanout * fo)
{
  if (!fo)
    return;
  burst_forget (fo);
  queue_clear (fo);
  gst_queue_array_free (fo->queue);
  g_free (fo->caps);
  mcp_election_free (fo->election);
  if (fo->filters)
    g_hash_table_unref (fo->filters);
  g_rec_mutex_clear (&fo->own_lock);
  g_free (fo);
}

void
gst_mcp_fanout_configure (GstMcpFanout * fo, guint64 max_bytes,
    guint64 max_time, GstMcpSlowClientPolicy policy, gboolean no_echo,
    gboolean one_per_peer)
{
  g_rec_mutex_lock (fo->lock);
  fo->max_bytes = max_bytes;
  fo->max_time = max_time;
  fo->policy = policy;
  fo->no_echo = no_echo;
  fo->one_per_peer = one_per_peer;
  g_rec_mutex_unlock (fo->lock);
}

void
gst_mcp_fanout_start (GstMcpFanout * fo, McpEndpoint * ep)
{
  g_rec_mutex_lock (fo->lock);
  fo->endpoint = ep;
  fo->datagrams_sent = fo->datagrams_skipped = fo->oversize_dropped = 0;
  fo->clients_total = fo->clients_dropped = 0;
  fo->bytes_sent = fo->reconnects = fo->bursts = 0;
  /* attached with the first connection, on the endpoint's thread */
  fo->flush_source = g_source_new (&flush_source_funcs, sizeof (FlushSource));
  ((FlushSource *) fo->flush_source)->fo = fo;
  g_source_set_priority (fo->flush_source, G_PRIORITY_HIGH);
  g_rec_mutex_unlock (fo->lock);
}

void
gst_mcp_fanout_stop (GstMcpFanout * fo)
{
  GList *clients, *l;

  g_rec_mutex_lock (fo->lock);
  if (fo->flush_source) {
    g_source_destroy (fo->flush_source);
    g_clear_pointer (&fo->flush_source, g_source_unref);
  }
  clients = g_list_copy (fo->clients);
  g_rec_mutex_unlock (fo->lock);

  /* Each close removes its connection. */
  fo->stopping = TRUE;
  g_rec_mutex_lock (fo->lock);
  for (l = clients; l; l = l->next)
    mcp_conn_close (((GstMcpFanoutClient *) l->data)->conn, "element stopped");
  g_rec_mutex_unlock (fo->lock);
  fo->stopping = FALSE;
  g_list_free (clients);
  flush_notices (fo);

  g_rec_mutex_lock (fo->lock);
  burst_forget (fo);
  queue_clear (fo);
  fo->n_active = 0;
  fo->flush_pending = FALSE;
  g_clear_pointer (&fo->caps, g_free);
  g_rec_mutex_unlock (fo->lock);
}

void
gst_mcp_fanout_add (GstMcpFanout * fo, GSocket * socket, gint caller,
    const McpConnConfig * cfg)
{
  GstMcpFanoutClient *c = g_new0 (GstMcpFanoutClient, 1);
  McpConnConfig locked = *cfg;

  c->fo = fo;
  c->caller = caller;
  locked.lock = fo->lock;
  g_rec_mutex_lock (fo->lock);
  if (!g_source_get_context (fo->flush_source))
    g_source_attach (fo->flush_source, mcp_endpoint_get_context (fo->endpoint));
  c->id = fo->next_id++;
  c->conn = mcp_conn_new (socket, mcp_endpoint_get_context (fo->endpoint),
      &locked, &conn_funcs, c);
  c->address = g_strdup (mcp_conn_get_peer_address (c->conn));
  fo->clients = g_list_prepend (fo->clients, c);
  fo->clients_total++;
  GST_DEBUG_OBJECT (fo->owner, "new connection %s", c->address);
  mcp_conn_start (c->conn);
  g_rec_mutex_unlock (fo->lock);
  g_object_unref (socket);
}

guint
gst_mcp_fanout_get_n_connections (GstMcpFanout * fo)
{
  guint n;

  g_rec_mutex_lock (fo->lock);
  n = g_list_length (fo->clients);
  g_rec_mutex_unlock (fo->lock);
  return n;
}


void
gst_mcp_fanout_set_caps (GstMcpFanout * fo, const gchar * caps)
{
  g_rec_mutex_lock (fo->lock);
  if (g_strcmp0 (caps, fo->caps) != 0) {
    g_free (fo->caps);
    fo->caps = g_strdup (caps);
    if (fo->n_active > 0) {
      Entry *e = g_new0 (Entry, 1);

      e->refcount = 1;
      e->kind = ENTRY_CAPS;
      e->arrival = g_get_monotonic_time ();
      e->control = mcp_mpx_build_caps (fo->caps);
      queue_push (fo, e);
      kick (fo);
    }
  }
  g_rec_mutex_unlock (fo->lock);
}

gboolean
gst_mcp_fanout_queue (GstMcpFanout * fo, GstBuffer * buffer,
    const McpFrameMeta * meta, GstMcpFanoutClient * from)
{
  gsize size = gst_buffer_get_size (buffer);
  Entry *e;

  g_rec_mutex_lock (fo->lock);
  if (fo->n_active == 0 && !fo->burst_max_bytes) {
    g_rec_mutex_unlock (fo->lock);
    return FALSE;
  }
  e = g_new (Entry, 1);
  e->refcount = 1;
  e->kind = ENTRY_DATA;
  e->arrival = g_get_monotonic_time ();
  e->origin = meta->origin_id;
  e->from = from ? from->id : 0;
  e->family = meta->family;
  e->port = meta->port;
  memcpy (e->group, meta->group, 16);
  e->has_source = mcp_frame_meta_has_source (meta);
  memcpy (e->source, meta->source, 16);
  e->control = NULL;
  e->buffer = gst_buffer_ref (buffer);
  if (!gst_buffer_map (buffer, &e->map, GST_MAP_READ)) {
    gst_buffer_unref (buffer);
    g_free (e);
    g_rec_mutex_unlock (fo->lock);
    return TRUE;
  }
  e->oversize = size > MCP_MAX_DATAGRAM;
  if (e->oversize) {
    if (fo->oversize_dropped++ == 0)
      GST_ELEMENT_WARNING (fo->owner, STREAM, FORMAT,
          ("Buffer too large for a datagram"),
          ("%" G_GSIZE_FORMAT " bytes exceed %u: sent to raw clients only",
              size, MCP_MAX_DATAGRAM));
  } else {
    e->mpx_header_len = mcp_mpx_write_data_header (e->mpx_header, meta, size);
    mcp_rfc4571_write_header (e->len_header, size);
  }
  queue_push (fo, e);
  if (fo->n_active == 0) {
    /* kept only for the burst of the next client */
    queue_trim (fo);
    g_rec_mutex_unlock (fo->lock);
    return FALSE;
  }
  g_rec_mutex_unlock (fo->lock);
  return TRUE;
}

void
gst_mcp_fanout_flush (GstMcpFanout * fo)
{
  g_rec_mutex_lock (fo->lock);
  if (gst_queue_array_get_length (fo->queue) > 0)
    kick (fo);
  g_rec_mutex_unlock (fo->lock);
}

gboolean
gst_mcp_fanout_push (GstMcpFanout * fo, GstBuffer * buffer,
    const McpFrameMeta * meta, GstMcpFanoutClient * from)
{
  gboolean kept;

  g_rec_mutex_lock (fo->lock);
  kept = gst_mcp_fanout_queue (fo, buffer, meta, from);
  if (kept)
    kick (fo);
  g_rec_mutex_unlock (fo->lock);
  return kept;
}

/* Under lock: how far c is behind the newest entry, in payload bytes and
 * in time since the oldest datagram it has not fully written arrived (ns). */
static void
client_lag (GstMcpFanout * fo, GstMcpFanoutClient * c, gint64 now,
    guint64 * bytes, guint64 * time)
{
  guint64 end = queue_end (fo), next = MAX (c->next, fo->front_index);
  Entry *oldest = c->cur;

  *bytes = 0;
  *time = 0;
  if (c->standby)
    return;
  if (next < end) {
    *bytes = fo->bytes_queued - queue_at (fo, next)->bytes_before;
    if (!oldest)
      oldest = queue_at (fo, next);
  }
  if (oldest && now > oldest->arrival)
    *time = (guint64) (now - oldest->arrival) * 1000;
}

void
gst_mcp_fanout_fill_stats (GstMcpFanout * fo, GstStructure * s)
{
  GValue clients = G_VALUE_INIT;
  guint64 sent, bytes_sent, dropped;
  gint64 now = g_get_monotonic_time ();
  GList *l;

  g_value_init (&clients, GST_TYPE_ARRAY);
  g_rec_mutex_lock (fo->lock);
  sent = fo->datagrams_sent;
  bytes_sent = fo->bytes_sent;
  for (l = fo->clients; l; l = l->next) {
    GstMcpFanoutClient *c = l->data;
    GValue v = G_VALUE_INIT;
    GstStructure *cs;
    guint64 lag_bytes, lag_time;

    sent += c->datagrams;
    bytes_sent += mcp_conn_get_bytes_out (c->conn);
    if (!c->active)
      continue;
    client_lag (fo, c, now, &lag_bytes, &lag_time);
    cs = gst_structure_new ("client",
        "address", G_TYPE_STRING, c->address,
        "framing", G_TYPE_STRING, mcp_framing_to_string (c->framing),
        "peer-id", G_TYPE_UINT64, c->peer_id,
        "standby", G_TYPE_BOOLEAN, c->standby,
        "datagrams-sent", G_TYPE_UINT64, c->datagrams,
        "buffers-dropped", G_TYPE_UINT64, c->skipped,
        "bytes-sent", G_TYPE_UINT64, mcp_conn_get_bytes_out (c->conn),
        "lag-datagrams", G_TYPE_UINT64,
        c->standby ? 0 : queue_end (fo) - c->next,
        "lag-bytes", G_TYPE_UINT64, lag_bytes,
        "lag-time", G_TYPE_UINT64, lag_time,
        "write-blocked", G_TYPE_BOOLEAN, mcp_conn_is_write_blocked (c->conn),
        "caller", G_TYPE_BOOLEAN, c->caller != MCP_ENDPOINT_ACCEPTED,
        "connect-duration", G_TYPE_UINT64,
        (guint64) (now - c->ready_at) * 1000,
        "bytes-received", G_TYPE_UINT64, mcp_conn_get_bytes_in (c->conn), NULL);
    if (fo->funcs.subscriptions) {
      const McpSubSet *subs = mcp_conn_get_peer_subscriptions (c->conn);

      /* "*": it takes no part, and gets everything */
      gchar *text = subs ? mcp_sub_set_to_string (subs) : g_strdup ("*");

      gst_structure_set (cs, "subscriptions", G_TYPE_STRING, text, NULL);
      g_free (text);
      /* what the owner chose to send it instead (a mesh's routes) */
      subs = fo->filters ? g_hash_table_lookup (fo->filters, &c->peer_id) :
          NULL;
      if (subs) {
        text = mcp_sub_set_to_string (subs);
        gst_structure_set (cs, "subscriptions-forwarded", G_TYPE_STRING,
            text, NULL);
        g_free (text);
      }
    }
    g_value_init (&v, GST_TYPE_STRUCTURE);
    gst_value_set_structure (&v, cs);
    gst_structure_free (cs);
    gst_value_array_append_and_take_value (&clients, &v);
  }
  if (!gst_structure_get_uint64 (s, "datagrams-dropped", &dropped))
    dropped = 0;
  gst_structure_set (s,
      "datagrams-sent", G_TYPE_UINT64, sent,
      "bytes-sent", G_TYPE_UINT64, bytes_sent,
      "reconnects", G_TYPE_UINT64, fo->reconnects,
      "datagrams-dropped", G_TYPE_UINT64,
      dropped + fo->datagrams_skipped + fo->oversize_dropped,
      "dropped-resync", G_TYPE_UINT64, fo->datagrams_skipped,
      "dropped-oversize", G_TYPE_UINT64, fo->oversize_dropped,
      "clients", G_TYPE_UINT, fo->n_active,
      "clients-total", G_TYPE_UINT64, fo->clients_total,
      "clients-dropped", G_TYPE_UINT64, fo->clients_dropped,
      "bursts", G_TYPE_UINT64, fo->bursts,
      "queue-datagrams", G_TYPE_UINT,
      gst_queue_array_get_length (fo->queue),
      "queue-bytes", G_TYPE_UINT64, fo->queue_bytes, NULL);
  g_rec_mutex_unlock (fo->lock);
  gst_structure_take_value (s, "client-list", &clients);
}

GArray *
gst_mcp_fanout_get_subscriptions (GstMcpFanout * fo)
{
  GArray *peers = gst_mcp_subs_peers_new ();
  McpSubSet *everything = mcp_sub_set_new ();
  GList *l;

  mcp_sub_set_add_everything (everything);
  g_rec_mutex_lock (fo->lock);
  for (l = fo->clients; l; l = l->next) {
    GstMcpFanoutClient *c = l->data;
    const McpSubSet *subs;

    if (!c->active || mcp_conn_is_closed (c->conn))
      continue;
    subs = mcp_conn_get_peer_subscriptions (c->conn);
    gst_mcp_subs_peers_add (peers, c->peer_id, subs ? subs : everything);
  }
  g_rec_mutex_unlock (fo->lock);
  mcp_sub_set_free (everything);
  return peers;
}

void
gst_mcp_fanout_set_peer_filter (GstMcpFanout * fo, guint64 peer_id,
    const McpSubSet * set)
{
  g_rec_mutex_lock (fo->lock);
  if (!fo->filters)
    fo->filters = g_hash_table_new_full (g_int64_hash, g_int64_equal,
        g_free, (GDestroyNotify) mcp_sub_set_free);
  if (set)
    g_hash_table_replace (fo->filters, g_memdup2 (&peer_id,
            sizeof (peer_id)), mcp_sub_set_copy (set));
  else
    g_hash_table_remove (fo->filters, &peer_id);
  g_rec_mutex_unlock (fo->lock);
}

void
gst_mcp_fanout_foreach_conn (GstMcpFanout * fo, GstMcpFanoutConnFunc func,
    gpointer user_data)
{
  GList *l;

  g_rec_mutex_lock (fo->lock);
  for (l = fo->clients; l; l = l->next) {
    GstMcpFanoutClient *c = l->data;

    if (c->active && !mcp_conn_is_closed (c->conn))
      func (c->conn, c->peer_id, user_data);
  }
  g_rec_mutex_unlock (fo->lock);
}

void
gst_mcp_fanout_set_burst (GstMcpFanout * fo, guint64 max_bytes)
{
  g_rec_mutex_lock (fo->lock);
  fo->burst_max_bytes = max_bytes;
  if (!max_bytes) {
    burst_forget (fo);
    queue_trim (fo);
  }
  g_rec_mutex_unlock (fo->lock);
}

void
gst_mcp_fanout_mark_random_access (GstMcpFanout * fo, GBytes * prefix)
{
  Entry *e;

  g_rec_mutex_lock (fo->lock);
  if (!fo->burst_max_bytes) {
    g_rec_mutex_unlock (fo->lock);
    return;
  }
  burst_forget (fo);
  e = g_new0 (Entry, 1);
  e->refcount = 1;
  e->kind = ENTRY_DATA;
  e->arrival = g_get_monotonic_time ();
  e->buffer = gst_buffer_new_wrapped_bytes (prefix);
  gst_buffer_map (e->buffer, &e->map, GST_MAP_READ);
  e->oversize = TRUE;           /* never framed: raw clients only */
  fo->burst_prefix = e;
  fo->burst_index = queue_end (fo);
  fo->burst_bytes_base = fo->bytes_queued;
  queue_trim (fo);
  g_rec_mutex_unlock (fo->lock);
}

void
gst_mcp_fanout_move (GstMcpFanoutClient * c, GstMcpFanout * to)
{
  GstMcpFanout *from = c->fo;

  g_return_if_fail (from->lock == to->lock);
  g_return_if_fail (!c->active);
  g_rec_mutex_lock (to->lock);
  if (!g_source_get_context (to->flush_source))
    g_source_attach (to->flush_source, mcp_endpoint_get_context (to->endpoint));
  from->clients = g_list_remove (from->clients, c);
  to->clients = g_list_prepend (to->clients, c);
  to->clients_total++;
  c->fo = to;
  c->id = to->next_id++;
  g_rec_mutex_unlock (to->lock);
}

McpConn *
gst_mcp_fanout_client_get_conn (GstMcpFanoutClient * c)
{
  return c->conn;
}

GstMcpFanout *
gst_mcp_fanout_client_get_fanout (GstMcpFanoutClient * c)
{
  return c->fo;
}

void
gst_mcp_fanout_finish_all (GstMcpFanout * fo, const gchar * reason)
{
  GList *clients, *l;

  g_rec_mutex_lock (fo->lock);
  clients = g_list_copy (fo->clients);
  for (l = clients; l; l = l->next) {
    GstMcpFanoutClient *c = l->data;

    if (g_list_find (fo->clients, c))
      mcp_conn_finish (c->conn, reason);
  }
  g_list_free (clients);
  g_rec_mutex_unlock (fo->lock);
}

gboolean
gst_mcp_fanout_is_idle (GstMcpFanout * fo)
{
  gboolean idle;

  g_rec_mutex_lock (fo->lock);
  idle = fo->clients == NULL && g_queue_is_empty (&fo->notices)
      && !fo->notices_scheduled;
  g_rec_mutex_unlock (fo->lock);
  return idle;
}

gboolean
gst_mcp_fanout_mark_keyframe (GstMcpFanout * fo, McpTsTracker * ts,
    GstBuffer * buffer)
{
  GstMapInfo map;
  GBytes *psi = NULL;
  gssize rap;

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    return FALSE;
  rap = mcp_ts_tracker_feed (ts, map.data, map.size);
  if (rap >= 0 && (psi = mcp_ts_tracker_get_psi (ts))) {
    gsize psi_len, tail = map.size - rap;
    const guint8 *p = g_bytes_get_data (psi, &psi_len);
    guint8 *prefix = g_malloc (psi_len + tail);
    GBytes *bytes;

    memcpy (prefix, p, psi_len);
    memcpy (prefix + psi_len, map.data + rap, tail);
    bytes = g_bytes_new_take (prefix, psi_len + tail);
    gst_mcp_fanout_mark_random_access (fo, bytes);
    g_bytes_unref (bytes);
    g_bytes_unref (psi);
  }
  gst_buffer_unmap (buffer, &map);
  return psi != NULL;
}
