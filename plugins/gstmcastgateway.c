/* mcastproxy — mcastgateway
 *
 * This library is free software; you can redistribute it and/or modify it
 * under the terms of the GNU Library General Public License as published by
 * the Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.
 */

/**
 * SECTION:element-mcastgateway
 * @title: mcastgateway
 *
 * A channel gateway: HTTP clients ask for any multicast group by URL, in
 * the forms udpxy and msd_lite use, and get its datagrams' payload.
 *
 * - `GET /udp/GROUP:PORT`: the payload of every datagram, as it came;
 * - `GET /rtp/GROUP:PORT`: the payload of RTP packets, in sequence order,
 *   without duplicates;
 * - `SOURCE@GROUP:PORT` for a source-specific group, IPv6 in brackets;
 * - `GET /playlist.m3u`: the `playlist` file with its `udp://` and
 *   `rtp://` entries rewritten to this gateway's URLs;
 * - `GET /status` (HTML), `/stats` (JSON), `/metrics` (Prometheus).
 *
 * The first request of a channel joins its group; every later client of
 * it shares that join and its one queue. The group is left `linger` after
 * its last client has gone. A new client of an MPEG-TS channel first gets
 * the latest PAT and PMT and everything since the last key frame (`burst`),
 * so that a player shows a picture at once. A channel that receives
 * nothing for `timeout` ends its clients cleanly, and a client whose
 * channel has sent nothing yet after `timeout` gets 504.
 *
 * The element has no pads: it is a whole pipeline by itself. One thread of
 * its own serves every socket, with non-blocking I/O.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 mcastgateway port=4022 multicast-iface=eth1
 * ]| A player then opens http://HOST:4022/udp/239.1.1.1:5000.
 */

#include "config.h"

#include "gstmcastgateway.h"
#include "gstmcpchannel.h"
#include "gstmcpenums.h"
#include "gstmcpevents.h"
#include "gstmcpfanout.h"
#include "gstmcphttp.h"
#include "gstmcpprops.h"
#include "gstmcpstats.h"
#include "gstmcpstatus.h"
#include "gstmcptcp.h"

#include <glib-unix.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mcp-address.h"
#include "mcp-auth.h"
#include "mcp-channel.h"
#include "mcp-prom.h"

GST_DEBUG_CATEGORY_STATIC (mcast_gateway_debug);
#define GST_CAT_DEFAULT mcast_gateway_debug

#define DEFAULT_PORT 4022
#define DEFAULT_TIMEOUT (5 * GST_SECOND)
#define DEFAULT_LINGER (1 * GST_SECOND)
#define DEFAULT_BATCH_LATENCY (20 * GST_MSECOND)
#define MAX_BATCH_LATENCY (100 * GST_MSECOND)
#define DEFAULT_REJOIN_INTERVAL 0
#define DEFAULT_BUFFER_SIZE 0
#define DEFAULT_BURST GST_MCP_BURST_KEYFRAME
#define DEFAULT_BURST_MAX_BYTES (4 * 1024 * 1024)
#define DEFAULT_MAX_CLIENTS 0
#define DEFAULT_MAX_CHANNEL_CLIENTS 0
#define DEFAULT_MAX_CHANNELS 0
#define DEFAULT_SLOW_CLIENT_POLICY GST_MCP_SLOW_CLIENT_RESYNC
#define DEFAULT_MAX_QUEUE_BYTES (4 * 1024 * 1024)
#define DEFAULT_MAX_QUEUE_TIME (3 * GST_SECOND)

/* Batch reads of every channel share these slots (one thread). */
#define SLOTS 32
#define SLOT_SIZE 65536
/* Waiting clients and interface re-joins are looked at this often (ms). */
#define TICK_MS 100

#define PLAYLIST_PATH "/playlist.m3u"
/* A client of a new MPEG-TS channel waits this long at most for a key
 * frame to start with (ns); then it gets the stream as it comes. */
#define KEYFRAME_WAIT (3 * GST_SECOND)

static const GstMcpTcpSpec tcp_spec = {
  GST_MCP_TCP_OMIT_MODE | GST_MCP_TCP_OMIT_FRAMING | GST_MCP_TCP_OMIT_PEER_ID
      | GST_MCP_TCP_OMIT_CALLER | GST_MCP_TCP_OMIT_MPX_SECURITY,
  GST_MCP_MODE_LISTENER,
  DEFAULT_PORT,
  0, 0,
  "Address to listen on (empty: every address)",
  "TCP port HTTP clients connect to (0: any free port, see current-port)",
  NULL,
  "A client must send its whole HTTP request (and finish TLS) within this "
      "time (ns; 0: no limit)",
  NULL, NULL, NULL,
  "HTTP clients",
};

enum
{
  PROP_MULTICAST_IFACE = GST_MCP_TCP_PROP_LAST,
  PROP_BUFFER_SIZE,
  PROP_TIMEOUT,
  PROP_LINGER,
  PROP_BATCH_LATENCY,
  PROP_REJOIN_INTERVAL,
  PROP_BURST,
  PROP_BURST_MAX_BYTES,
  PROP_MAX_CLIENTS,
  PROP_MAX_CHANNEL_CLIENTS,
  PROP_MAX_CHANNELS,
  PROP_GROUPS,
  PROP_PLAYLIST,
  PROP_TOKEN,
  PROP_TOKEN_FILE,
  PROP_SLOW_CLIENT_POLICY,
  PROP_MAX_QUEUE_BYTES,
  PROP_MAX_QUEUE_TIME,
};

enum
{
  SIGNAL_GET_STATS,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

/* A client of a channel that has sent nothing yet. */
typedef struct
{
  GstMcpFanoutClient *client;
  McpConn *conn;                /* a reference */
  guint version_minor;
  gboolean head;
  gboolean mpx;                 /* it asked for the channel in mpx */
  gint64 since;                 /* monotonic µs of its request */
} Waiter;

/* What tells whether a file changed without reading it: a file rewritten
 * (size, mtime, ctime) or replaced (device, inode). */
typedef struct
{
  gboolean found;
  guint64 dev, ino, size;
  gint64 mtime_ns, ctime_ns;
} FileStamp;

/* The playlist as read, and from where. */
typedef struct
{
  gchar *path;                  /* NULL: none */
  gchar *text;
  gsize len;
  FileStamp stamp;              /* of what was read */
  gboolean failing;             /* reading it again failed ... */
  FileStamp failed;             /* ... for a file of this stamp (told) */
} Playlist;

/* The gateway's side of a channel. */
typedef struct
{
  GstMcastGateway *gw;
  GstMcpChannel *ch;
  guint n_clients;              /* its connections, waiting ones included */
  GList *waiting;               /* Waiter */
  GSource *linger;              /* set while it has no client */
  guint64 clients_total;
  const gchar *why;             /* why it is closed; NULL: stopping */
} Chan;

struct _GstMcastGateway
{
  GstElement parent;

  /* properties, under the object lock */
  GstMcpTcpSettings tcp;
  gchar *multicast_iface;
  gint buffer_size;
  guint64 timeout;
  guint64 linger;
  guint64 batch_latency;
  guint64 rejoin_interval;
  GstMcpBurst burst;
  guint64 burst_max_bytes;
  guint max_clients;
  guint max_channel_clients;
  guint max_channels;
  gchar *groups;
  gchar *playlist;
  gchar *token;
  gchar *token_file;
  GstMcpSlowClientPolicy slow_client_policy;
  guint64 max_queue_bytes;
  guint64 max_queue_time;

  /* from NULL->READY to READY->NULL */
  McpEndpoint *endpoint;
  GPtrArray *ifnames;

  /* Guards everything below, every fan-out and every connection (it is
   * their McpConnConfig.lock). The endpoint's thread holds it while it
   * works; other threads to read statistics, and to put in place the
   * settings that change while the element runs (set_live). */
  GRecMutex lock;
  /* what the settings name, from NULL->READY (prepare) to READY->NULL */
  gboolean prepared;
  GPtrArray *networks;          /* groups: NULL for any */
  Playlist playlist_file;
  gchar *token_value;           /* NULL: no token needed */
  GstMcpFanout *lobby;          /* connections whose request is not in */
  GHashTable *channels;         /* canonical path -> Chan */
  McpMembershipDriver *membership;
  GSource *membership_source;
  GSource *tick_source;
  McpDatagram slots[SLOTS];
  guint8 *slot_memory;
  GHashTable *clients_told;     /* addresses told as client-added */
  GstMcpChannelShared shared;
  guint n_connections;
  gint64 started;               /* monotonic µs */
  McpPromHistogram *zap;        /* request to first byte, seconds */

  /* statistics, under lock */
  guint64 requests;
  guint64 status_400, status_401, status_403, status_404, status_503;
  guint64 status_504;
  guint64 channels_opened;
  guint64 channels_closed;
  guint64 clients_total;
  guint64 bursts;               /* of channels already closed */
  guint64 datagrams_received, bytes_received, datagrams_sent, bytes_sent;

  GstMcpStatsTimer stats_timer;

  /* Channel clients and joins, for the operator: noticed on the
   * endpoint's thread under lock (or stopping), posted from an idle
   * callback there, or by stop(). */
  GstMcpEvents events;
};

#define gst_mcast_gateway_parent_class parent_class
G_DEFINE_TYPE (GstMcastGateway, gst_mcast_gateway, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (mcastgateway, "mcastgateway",
    GST_RANK_NONE, GST_TYPE_MCAST_GATEWAY,
    GST_DEBUG_CATEGORY_INIT (mcast_gateway_debug, "mcastgateway", 0,
        "mcastproxy channel gateway"));

static void gst_mcast_gateway_finalize (GObject * object);
static void gst_mcast_gateway_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_mcast_gateway_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_mcast_gateway_change_state (GstElement *
    element, GstStateChange transition);
static GstStructure *gst_mcast_gateway_get_stats (GstMcastGateway * self);

/* ---- answers (endpoint thread, under lock) ----------------------------- */

/* A refusal: status with a one-line reason as its text/plain body. */
/* *INDENT-OFF* */
static void
refuse (GstMcastGateway * self, McpConn * conn, const McpHttpRequest * req,
    guint status, const gchar * extra, const gchar * fmt, ...)
    G_GNUC_PRINTF (6, 7);
/* *INDENT-ON* */

static void
refuse (GstMcastGateway * self, McpConn * conn, const McpHttpRequest * req,
    guint status, const gchar * extra, const gchar * fmt, ...)
{
  gboolean head = strcmp (req->method, "HEAD") == 0;
  gchar *why, *body, *reason;
  va_list args;
  GBytes *msg;

  va_start (args, fmt);
  why = g_strdup_vprintf (fmt, args);
  va_end (args);
  body = g_strdup_printf ("%u %s: %s\n", status,
      mcp_http_status_reason (status), why);
  msg = mcp_http_response (req->version_minor, status,
      "text/plain; charset=utf-8", body, extra, !head);
  reason = g_strdup_printf ("HTTP %u for %s: %s", status, req->path, why);
  GST_INFO_OBJECT (self, "%s: %s", mcp_conn_get_peer_address (conn), reason);
  switch (status) {
    case 400:
      self->status_400++;
      break;
    case 401:
      self->status_401++;
      break;
    case 403:
      self->status_403++;
      break;
    case 404:
      self->status_404++;
      break;
    case 503:
      self->status_503++;
      break;
    case 504:
      self->status_504++;
      break;
  }
  mcp_conn_http_respond (conn, msg, FALSE, reason);
  g_bytes_unref (msg);
  g_free (reason);
  g_free (body);
  g_free (why);
}

/* The channel has data: the client gets its head, then the stream (or,
 * for HEAD, only the head); an mcastproxy receiver that asked for mpx
 * gets 101, then speaks mpx. */
static void
answer_stream (GstMcastGateway * self, Chan * c, McpConn * conn,
    guint version_minor, gboolean head, gboolean mpx, gint64 since)
{
  const gchar *type = gst_mcp_channel_get_content_type (c->ch);
  gchar *h;
  GBytes *msg;

  mcp_prom_histogram_observe (self->zap,
      (g_get_monotonic_time () - since) / 1e6);
  if (mpx) {
    h = g_strdup ("HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: " MCP_HTTP_UPGRADE_MPX "\r\nConnection: Upgrade\r\n\r\n");
    msg = g_bytes_new_take (h, strlen (h));
    mcp_conn_http_upgrade (conn, msg);
  } else {
    h = mcp_http_response_head (version_minor, 200, type, -1, NULL);
    msg = g_bytes_new_take (h, strlen (h));
    mcp_conn_http_respond (conn, msg, !head, "HTTP HEAD answered");
  }
  g_bytes_unref (msg);
}

/* The request asks for the channel in mpx (tcpsplitsrc path=). */
static gboolean
wants_mpx (const McpHttpRequest * req)
{
  const gchar *up = mcp_http_request_get_header (req, "Upgrade");

  return up && strcmp (req->method, "GET") == 0
      && g_ascii_strcasecmp (up, MCP_HTTP_UPGRADE_MPX) == 0;
}

static void
waiter_free (Waiter * w)
{
  mcp_conn_unref (w->conn);
  g_free (w);
}

/* ---- channels (endpoint thread, under lock) ---------------------------- */

static void
chan_free (Chan * c)
{
  GstMcastGateway *self = c->gw;
  GstStructure *s = gst_mcp_channel_get_stats (c->ch);
  guint64 v;

  /* what it counted stays in the totals */
  if (gst_structure_get_uint64 (s, "bursts", &v))
    self->bursts += v;
  if (gst_structure_get_uint64 (s, "datagrams-received", &v))
    self->datagrams_received += v;
  if (gst_structure_get_uint64 (s, "bytes-received", &v))
    self->bytes_received += v;
  if (gst_structure_get_uint64 (s, "datagrams-sent", &v))
    self->datagrams_sent += v;
  if (gst_structure_get_uint64 (s, "bytes-sent", &v))
    self->bytes_sent += v;
  gst_structure_free (s);
  if (c->linger) {
    g_source_destroy (c->linger);
    g_source_unref (c->linger);
  }
  g_list_free_full (c->waiting, (GDestroyNotify) waiter_free);
  gst_mcp_channel_free (c->ch, c->why ? c->why : "stopping");
  self->channels_closed++;
  g_free (c);
}

static gboolean
linger_done (gpointer data)
{
  Chan *c = data;
  GstMcastGateway *self = c->gw;

  g_rec_mutex_lock (&self->lock);
  g_source_unref (c->linger);
  c->linger = NULL;
  /* n_clients drops with the removal told by the fan-out, so the fan-out
   * is idle then: nothing of it is left to run when it is freed */
  if (c->n_clients == 0
      && gst_mcp_fanout_is_idle (gst_mcp_channel_get_fanout (c->ch))) {
    GST_INFO_OBJECT (self, "channel %s: no client since the linger, "
        "leaving", gst_mcp_channel_get_path (c->ch));
    c->why = "no client left";
    g_hash_table_remove (self->channels, gst_mcp_channel_get_path (c->ch));
  }
  g_rec_mutex_unlock (&self->lock);
  return G_SOURCE_REMOVE;
}

static void
chan_client_gone (Chan * c)
{
  GstMcastGateway *self = c->gw;
  guint64 linger;

  if (--c->n_clients > 0 || c->linger)
    return;
  GST_OBJECT_LOCK (self);
  linger = self->linger;
  GST_OBJECT_UNLOCK (self);
  c->linger = g_timeout_source_new (linger / GST_MSECOND);
  g_source_set_callback (c->linger, linger_done, c, NULL);
  g_source_attach (c->linger, mcp_endpoint_get_context (self->endpoint));
}

/* The channel has data (and a key frame): every waiting client is
 * answered. */
static void
channel_ready (GstMcpChannel * ch, gpointer user_data)
{
  Chan *c = user_data;
  GList *waiting = c->waiting, *l;

  c->waiting = NULL;
  for (l = waiting; l; l = l->next) {
    Waiter *w = l->data;

    answer_stream (c->gw, c, w->conn, w->version_minor, w->head, w->mpx,
        w->since);
  }
  g_list_free_full (waiting, (GDestroyNotify) waiter_free);
}

/* Silence for `timeout`: the clients served end cleanly (players retry);
 * waiting ones get 504 from the tick. */
static void
channel_silent (GstMcpChannel * ch, gpointer user_data)
{
  Chan *c = user_data;
  GstMcastGateway *self = c->gw;
  gchar *reason;

  if (gst_mcp_channel_get_content_type (ch) == NULL)
    return;
  reason = g_strdup_printf ("channel %s: nothing received for %"
      G_GUINT64_FORMAT " ms", gst_mcp_channel_get_path (ch),
      self->shared.timeout / GST_MSECOND);
  GST_WARNING_OBJECT (self, "%s: its clients are ended", reason);
  gst_mcp_fanout_finish_all (gst_mcp_channel_get_fanout (ch), reason);
  g_free (reason);
}

static const GstMcpChannelFuncs channel_funcs = {
  channel_ready,
  channel_silent,
};

/* ---- connections (endpoint thread) ------------------------------------- */

/* A channel's client is served from now on (its answer is out): the
 * operator hears of it (as of its end), not of requests that are answered
 * and closed. */
static void
channel_client_added (GstMcpFanout * fo, const GstMcpClientInfo * info,
    gpointer user_data)
{
  Chan *c = user_data;
  GstMcastGateway *self = c->gw;
  GstStructure *s = gst_mcp_event_client_added (info->address);

  GST_INFO_OBJECT (self, "client %s: playing %s", info->address,
      gst_mcp_channel_get_path (c->ch));
  gst_structure_set (s, "channel", G_TYPE_STRING,
      gst_mcp_channel_get_path (c->ch), NULL);
  g_rec_mutex_lock (&self->lock);
  g_hash_table_add (self->clients_told, g_strdup (info->address));
  gst_mcp_events_push (&self->events, s);
  g_rec_mutex_unlock (&self->lock);
}

static void
client_removed (GstMcastGateway * self, const GstMcpConnEnd * r)
{
  if (r->refused && !r->stopping)
    gst_mcp_security_refused (GST_ELEMENT (self), &self->tcp.sec,
        GST_MCP_REFUSED_HANDSHAKE, r->address, r->reason);
  else
    GST_INFO_OBJECT (self, "client %s gone: %s", r->address, r->reason);
}

static void
channel_client_removed (GstMcpFanout * fo, const GstMcpConnEnd * r,
    gpointer user_data)
{
  Chan *c = user_data;
  GstMcastGateway *self = c->gw;

  client_removed (self, r);
  g_rec_mutex_lock (&self->lock);
  self->n_connections--;
  if (g_hash_table_remove (self->clients_told, r->address)) {
    GstStructure *s = gst_mcp_event_client_removed (r->address, r->reason);

    gst_structure_set (s, "channel", G_TYPE_STRING,
        gst_mcp_channel_get_path (c->ch), NULL);
    gst_mcp_events_push (&self->events, s);
  }
  if (!r->stopping)
    chan_client_gone (c);
  g_rec_mutex_unlock (&self->lock);
}

static const GstMcpFanoutFuncs channel_fanout_funcs = {
  channel_client_added,
  channel_client_removed,
  NULL,
  NULL,
};

static void
lobby_client_added (GstMcpFanout * fo, const GstMcpClientInfo * info,
    gpointer user_data)
{
  /* never: a lobby connection is answered or moved to a channel */
}

static void
lobby_client_removed (GstMcpFanout * fo, const GstMcpConnEnd * r,
    gpointer user_data)
{
  GstMcastGateway *self = user_data;

  client_removed (self, r);
  g_rec_mutex_lock (&self->lock);
  self->n_connections--;
  g_rec_mutex_unlock (&self->lock);
}

static gchar *
status_body (GstElement * owner, const gchar ** content_type)
{
  GstStructure *s = gst_mcast_gateway_get_stats (GST_MCAST_GATEWAY (owner));
  gchar *html = gst_mcp_status_html (s);

  gst_structure_free (s);
  *content_type = "text/html; charset=utf-8";
  return html;
}

static gchar *
metrics_body (GstElement * owner, const gchar ** content_type)
{
  GstMcastGateway *self = GST_MCAST_GATEWAY (owner);
  GstStructure *s = gst_mcast_gateway_get_stats (self);
  gchar *text;

  g_rec_mutex_lock (&self->lock);
  text = gst_mcp_status_metrics (s, self->zap);
  g_rec_mutex_unlock (&self->lock);
  gst_structure_free (s);
  *content_type = "text/plain; version=0.0.4; charset=utf-8";
  return text;
}

static gchar *
stats_body (GstElement * owner, const gchar ** content_type)
{
  *content_type = "application/json";
  return gst_mcp_stats_pipeline_json (owner);
}

/* The token, from "?token=..." or "Authorization: Bearer ...". */
static gboolean
token_ok (GstMcastGateway * self, const McpHttpRequest * req)
{
  const gchar *auth = mcp_http_request_get_header (req, "Authorization");
  gboolean ok = FALSE;

  if (!self->token_value)
    return TRUE;
  if (auth && g_ascii_strncasecmp (auth, "Bearer ", 7) == 0)
    ok = mcp_auth_token_equal (auth + 7, self->token_value);
  if (!ok && req->query) {
    gchar **params = g_strsplit (req->query, "&", -1), **p;

    for (p = params; *p && !ok; p++)
      if (g_str_has_prefix (*p, "token=")) {
        gchar *v = g_uri_unescape_string (*p + 6, NULL);

        ok = v && mcp_auth_token_equal (v, self->token_value);
        g_free (v);
      }
    g_strfreev (params);
  }
  return ok;
}

/* ---- the playlist file ------------------------------------------------- */

static void
file_stamp (const gchar * path, FileStamp * st)
{
  GStatBuf sb;

  memset (st, 0, sizeof (*st));
  if (g_stat (path, &sb) != 0)
    return;
  st->found = TRUE;
  st->dev = sb.st_dev;
  st->ino = sb.st_ino;
  st->size = sb.st_size;
  st->mtime_ns = (gint64) sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
  st->ctime_ns = (gint64) sb.st_ctim.tv_sec * 1000000000 + sb.st_ctim.tv_nsec;
}

static gboolean
file_stamp_equal (const FileStamp * a, const FileStamp * b)
{
  return a->found == b->found && a->dev == b->dev && a->ino == b->ino
      && a->size == b->size && a->mtime_ns == b->mtime_ns
      && a->ctime_ns == b->ctime_ns;
}

static void
playlist_clear (Playlist * p)
{
  g_free (p->path);
  g_free (p->text);
  memset (p, 0, sizeof (*p));
}

/* Reads the playlist at path (NULL or empty: none) into p. A file that
 * changed while it was read gets no stamp, so that the next request reads
 * it again. */
static gboolean
playlist_read (const gchar * path, Playlist * p, GError ** error)
{
  FileStamp after;

  memset (p, 0, sizeof (*p));
  if (!path || !*path)
    return TRUE;
  file_stamp (path, &p->stamp);
  if (!g_file_get_contents (path, &p->text, &p->len, error))
    return FALSE;
  file_stamp (path, &after);
  if (!file_stamp_equal (&p->stamp, &after))
    memset (&p->stamp, 0, sizeof (p->stamp));
  p->path = g_strdup (path);
  return TRUE;
}

/* Under lock, for a request of the playlist: the file is read again when
 * it changed (rewritten or replaced) since it was read. One that cannot be
 * read leaves the playlist read before in place, with a warning once per
 * change of the file. */
static void
refresh_playlist (GstMcastGateway * self)
{
  Playlist *cur = &self->playlist_file, fresh;
  FileStamp now;
  GError *err = NULL;

  if (!cur->path)
    return;
  file_stamp (cur->path, &now);
  if (file_stamp_equal (&now, &cur->stamp)
      || (cur->failing && file_stamp_equal (&now, &cur->failed)))
    return;
  if (!playlist_read (cur->path, &fresh, &err)) {
    cur->failing = TRUE;
    cur->failed = now;
    GST_ELEMENT_WARNING (self, RESOURCE, OPEN_READ,
        ("Cannot read the playlist again: %s; it is served as read before",
            err->message), (NULL));
    g_error_free (err);
    return;
  }
  GST_INFO_OBJECT (self, "playlist %s changed: read again (%" G_GSIZE_FORMAT
      " bytes)", cur->path, fresh.len);
  playlist_clear (cur);
  *cur = fresh;
}

static void
answer_playlist (GstMcastGateway * self, McpConn * conn,
    const McpHttpRequest * req)
{
  gboolean head = strcmp (req->method, "HEAD") == 0;
  gchar *base, *text, *suffix = NULL;
  guint rewritten = 0, bad = 0;
  GBytes *msg;

  refresh_playlist (self);
  if (!self->playlist_file.text) {
    refuse (self, conn, req, 404, NULL, "no playlist (set playlist=FILE)");
    return;
  }
  base = mcp_channel_base_url (mcp_http_request_get_header (req, "Host"),
      self->tcp.sec.tls_server != NULL, "localhost",
      mcp_endpoint_get_port (self->endpoint));
  if (self->token_value) {
    gchar *t = g_uri_escape_string (self->token_value, NULL, TRUE);

    suffix = g_strdup_printf ("?token=%s", t);
    g_free (t);
  }
  text = mcp_playlist_rewrite_full (self->playlist_file.text,
      self->playlist_file.len, base, suffix, &rewritten, &bad);
  msg = mcp_http_response (req->version_minor, 200, "audio/x-mpegurl", text,
      NULL, !head);
  GST_INFO_OBJECT (self, "playlist for %s: %u entries rewritten to %s",
      mcp_conn_get_peer_address (conn), rewritten, base);
  mcp_conn_http_respond (conn, msg, FALSE, "HTTP " PLAYLIST_PATH " answered");
  g_bytes_unref (msg);
  g_free (text);
  g_free (base);
  g_free (suffix);
}

/* A request for a channel: found or opened, the client moves to it. */
static void
answer_channel (GstMcastGateway * self, GstMcpFanoutClient * client,
    McpConn * conn, const McpHttpRequest * req, McpChannelSpec * spec)
{
  gchar *path = mcp_channel_to_path (spec);
  Chan *c = g_hash_table_lookup (self->channels, path);
  guint max_channels, max_channel_clients;

  GST_OBJECT_LOCK (self);
  max_channels = self->max_channels;
  max_channel_clients = self->max_channel_clients;
  GST_OBJECT_UNLOCK (self);

  if (self->networks && !mcp_networks_match (self->networks, spec->group)) {
    gchar *g = g_inet_address_to_string (spec->group);

    refuse (self, conn, req, 403, NULL, "group %s is not among the allowed "
        "groups", g);
    g_free (g);
    goto done;
  }
  if (!c) {
    GError *err = NULL;
    GstMcpChannel *ch;

    if (max_channels && g_hash_table_size (self->channels) >= max_channels) {
      refuse (self, conn, req, 503, NULL, "max-channels (%u) reached",
          max_channels);
      goto done;
    }
    c = g_new0 (Chan, 1);
    c->gw = self;
    ch = gst_mcp_channel_new (&self->shared, spec, c, &err);
    if (!ch) {
      g_free (c);
      refuse (self, conn, req, 503, NULL, "cannot receive %s: %s", path,
          err->message);
      g_error_free (err);
      goto done;
    }
    c->ch = ch;
    g_hash_table_insert (self->channels,
        (gpointer) gst_mcp_channel_get_path (ch), c);
    self->channels_opened++;
  } else if (max_channel_clients && c->n_clients >= max_channel_clients) {
    refuse (self, conn, req, 503, NULL, "channel %s has max-channel-clients "
        "(%u)", path, max_channel_clients);
    goto done;
  }

  if (c->linger) {
    g_source_destroy (c->linger);
    g_clear_pointer (&c->linger, g_source_unref);
  }
  c->n_clients++;
  c->clients_total++;
  self->clients_total++;
  gst_mcp_fanout_move (client, gst_mcp_channel_get_fanout (c->ch));
  if (gst_mcp_channel_is_ready (c->ch)) {
    answer_stream (self, c, conn, req->version_minor,
        strcmp (req->method, "HEAD") == 0, wants_mpx (req),
        g_get_monotonic_time ());
  } else {
    Waiter *w = g_new0 (Waiter, 1);

    w->client = client;
    w->conn = mcp_conn_ref (conn);
    w->version_minor = req->version_minor;
    w->head = strcmp (req->method, "HEAD") == 0;
    w->mpx = wants_mpx (req);
    w->since = g_get_monotonic_time ();
    c->waiting = g_list_append (c->waiting, w);
  }
done:
  g_free (path);
}

static void
lobby_http_request (GstMcpFanout * fo, GstMcpFanoutClient * client,
    const McpHttpRequest * req, gpointer user_data)
{
  GstMcastGateway *self = user_data;
  McpConn *conn = gst_mcp_fanout_client_get_conn (client);
  GMainContext *ctx = mcp_endpoint_get_context (self->endpoint);
  McpChannelSpec spec = { 0 };
  GError *err = NULL;

  self->requests++;
  GST_DEBUG_OBJECT (self, "HTTP %s %s from %s", req->method, req->target,
      mcp_conn_get_peer_address (conn));
  if (!token_ok (self, req)) {
    refuse (self, conn, req, 401, "WWW-Authenticate: Bearer\r\n",
        "a valid token is needed (?token=... or Authorization: Bearer)");
    return;
  }
  if (strcmp (req->path, PLAYLIST_PATH) == 0) {
    answer_playlist (self, conn, req);
    return;
  }
  if (strcmp (req->path, "/status") == 0 || strcmp (req->path, "/") == 0) {
    gst_mcp_http_answer_later (GST_ELEMENT (self), conn, req, ctx, status_body);
    return;
  }
  if (strcmp (req->path, "/stats") == 0) {
    gst_mcp_http_answer_later (GST_ELEMENT (self), conn, req, ctx, stats_body);
    return;
  }
  if (strcmp (req->path, "/metrics") == 0) {
    gst_mcp_http_answer_later (GST_ELEMENT (self), conn, req, ctx,
        metrics_body);
    return;
  }
  switch (mcp_channel_parse (req->path, &spec, &err)) {
    case MCP_CHANNEL_PARSE_NOT_CHANNEL:
      refuse (self, conn, req, 404, NULL, "no such page; channels are "
          "/udp/GROUP:PORT and /rtp/GROUP:PORT");
      break;
    case MCP_CHANNEL_PARSE_ERROR:
      refuse (self, conn, req, 400, NULL, "%s", err->message);
      g_error_free (err);
      break;
    case MCP_CHANNEL_PARSE_OK:
      answer_channel (self, client, conn, req, &spec);
      mcp_channel_spec_clear (&spec);
      break;
  }
}

static const GstMcpFanoutFuncs lobby_funcs = {
  lobby_client_added,
  lobby_client_removed,
  NULL,
  lobby_http_request,
};

static void
endpoint_connection (McpEndpoint * ep, GSocket * socket, gint caller,
    gpointer user_data)
{
  GstMcastGateway *self = user_data;
  McpConnConfig cfg = { 0 };
  guint max_clients, n;

  GST_OBJECT_LOCK (self);
  max_clients = self->max_clients;
  cfg.handshake_timeout = self->tcp.handshake_timeout;
  GST_OBJECT_UNLOCK (self);

  g_rec_mutex_lock (&self->lock);
  n = self->n_connections;
  g_rec_mutex_unlock (&self->lock);
  if (!gst_mcp_security_admit (GST_ELEMENT (self), &self->tcp.sec, socket, n,
          max_clients, "max-clients"))
    return;

  gst_mcp_tcp_prepare_socket (GST_ELEMENT (self), &self->tcp, socket);
  cfg.framing = MCP_FRAMING_AUTO;
  cfg.role = MCP_ROLE_SOURCE;
  cfg.discard_input = TRUE;
  cfg.name = "mcastgateway";
  cfg.http_path = "/";
  cfg.http_only = TRUE;
  gst_mcp_security_configure (&self->tcp.sec, &cfg, ep, caller);
  g_rec_mutex_lock (&self->lock);
  self->n_connections++;
  gst_mcp_fanout_add (self->lobby, socket, caller, &cfg);
  g_rec_mutex_unlock (&self->lock);
}

static void
endpoint_connect_failed (McpEndpoint * ep, gint caller, const gchar * reason,
    guint64 retry_in, gpointer user_data)
{
  /* it only listens */
}

static const McpEndpointFuncs endpoint_funcs = {
  endpoint_connection,
  endpoint_connect_failed,
  gst_mcp_tcp_accept_failed,
};

/* ---- timers and interfaces (endpoint thread) --------------------------- */

static gboolean
on_tick (gpointer data)
{
  GstMcastGateway *self = data;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter it;
  gpointer value;

  g_rec_mutex_lock (&self->lock);
  mcp_membership_tick (self->shared.membership, (guint64) now * 1000);
  g_hash_table_iter_init (&it, self->channels);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    Chan *c = value;
    GList *l, *next;

    for (l = c->waiting; l; l = next) {
      Waiter *w = l->data;

      next = l->next;
      if (gst_mcp_channel_get_content_type (c->ch)
          && (guint64) (now - w->since) * 1000 >= KEYFRAME_WAIT) {
        /* an MPEG-TS stream without a key frame found so far: live */
        c->waiting = g_list_delete_link (c->waiting, l);
        answer_stream (self, c, w->conn, w->version_minor, w->head, w->mpx,
            w->since);
        waiter_free (w);
        continue;
      }
      if (!self->shared.timeout
          || (guint64) (now - w->since) * 1000 < self->shared.timeout)
        continue;
      c->waiting = g_list_delete_link (c->waiting, l);
      {
        McpHttpRequest req = { 0 };

        req.method = (gchar *) (w->head ? "HEAD" : "GET");
        req.path = (gchar *) gst_mcp_channel_get_path (c->ch);
        req.version_minor = w->version_minor;
        refuse (self, w->conn, &req, 504, NULL, "nothing received from %s "
            "within %" G_GUINT64_FORMAT " ms", gst_mcp_channel_get_path (c->ch),
            self->shared.timeout / GST_MSECOND);
      }
      waiter_free (w);
    }
  }
  g_rec_mutex_unlock (&self->lock);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_interfaces (gint fd, GIOCondition cond, gpointer data)
{
  GstMcastGateway *self = data;

  g_rec_mutex_lock (&self->lock);
  mcp_membership_driver_dispatch (self->membership);
  g_rec_mutex_unlock (&self->lock);
  return G_SOURCE_CONTINUE;
}

static void
log_membership (GLogLevelFlags level, const gchar * message, gpointer data)
{
  GstMcastGateway *self = data;

  if (level & G_LOG_LEVEL_WARNING)
    GST_ELEMENT_WARNING (self, RESOURCE, READ, ("%s", message), (NULL));
  else
    GST_INFO_OBJECT (self, "%s", message);
}

/* ---- GObject ----------------------------------------------------------- */

static void
gst_mcast_gateway_class_init (GstMcastGatewayClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  gobject_class->set_property = gst_mcast_gateway_set_property;
  gobject_class->get_property = gst_mcast_gateway_get_property;
  gobject_class->finalize = gst_mcast_gateway_finalize;

  gst_mcp_tcp_install_properties_spec (gobject_class, &tcp_spec);
  g_object_class_install_property (gobject_class, PROP_MULTICAST_IFACE,
      g_param_spec_string ("multicast-iface", "Multicast interface",
          "Comma-separated interfaces to join the groups on (empty: the one "
          "the route to each group takes)", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_BUFFER_SIZE,
      gst_mcp_param_spec_int ("buffer-size", "Buffer size",
          "Receive buffer of each channel's socket (bytes; 0: the kernel's "
          "default)", 0, G_MAXINT, DEFAULT_BUFFER_SIZE, rw));
  g_object_class_install_property (gobject_class, PROP_TIMEOUT,
      g_param_spec_uint64 ("timeout", "Timeout",
          "A channel that receives nothing this long ends its clients, and "
          "a client waiting this long for a channel's first datagram gets "
          "504 (ns; 0: never)", 0, G_MAXUINT64, DEFAULT_TIMEOUT, rw));
  g_object_class_install_property (gobject_class, PROP_LINGER,
      g_param_spec_uint64 ("linger", "Linger",
          "A channel stays joined this long after its last client left, so "
          "that zapping back is instant (ns)", 0, G_MAXUINT64, DEFAULT_LINGER,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_BATCH_LATENCY,
      gst_mcp_param_spec_uint64 ("batch-latency", "Batch latency",
          "After the first datagram of a quiet spell, a channel waits this "
          "long and then writes what came meanwhile to each client at once: "
          "fewer writes and wake-ups for this much latency (ns; 0: write "
          "every datagram as it comes)", 0, MAX_BATCH_LATENCY,
          DEFAULT_BATCH_LATENCY, rw));
  g_object_class_install_property (gobject_class, PROP_REJOIN_INTERVAL,
      g_param_spec_uint64 ("rejoin-interval", "Rejoin interval",
          "Join every channel's group again this often, for switches that "
          "forget members (ns; 0: only when an interface changes)", 0,
          G_MAXUINT64, DEFAULT_REJOIN_INTERVAL, rw));
  g_object_class_install_property (gobject_class, PROP_BURST,
      g_param_spec_enum ("burst", "Burst",
          "What a new client of an MPEG-TS channel gets first",
          GST_TYPE_MCP_BURST, DEFAULT_BURST, rw));
  g_object_class_install_property (gobject_class, PROP_BURST_MAX_BYTES,
      gst_mcp_param_spec_uint64 ("burst-max-bytes", "Burst max bytes",
          "Most a channel keeps since its last key frame for new clients "
          "(bytes; more: no burst until the next key frame)", 1, G_MAXUINT64,
          DEFAULT_BURST_MAX_BYTES, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_CLIENTS,
      g_param_spec_uint ("max-clients", "Max clients",
          "Connections beyond this many are closed at once (0: no limit)",
          0, G_MAXUINT, DEFAULT_MAX_CLIENTS, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_CHANNEL_CLIENTS,
      g_param_spec_uint ("max-channel-clients", "Max channel clients",
          "Clients of one channel beyond this many get 503 (0: no limit)",
          0, G_MAXUINT, DEFAULT_MAX_CHANNEL_CLIENTS,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_CHANNELS,
      g_param_spec_uint ("max-channels", "Max channels",
          "Requests that would open a channel beyond this many get 503 (0: "
          "no limit)", 0, G_MAXUINT, DEFAULT_MAX_CHANNELS,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_GROUPS,
      g_param_spec_string ("groups", "Groups",
          "Comma-separated networks of the groups clients may ask for "
          "(\"239.1.0.0/16,ff3e::/16\"); others get 403; empty: any "
          "multicast group. A change while running applies to new requests",
          NULL, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_PLAYLIST,
      g_param_spec_string ("playlist", "Playlist",
          "M3U file served at /playlist.m3u with its udp:// and rtp:// "
          "entries rewritten to this gateway's URLs (empty: none). Read "
          "again when it changes on disk, and when set (even to the same "
          "path)", NULL, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_TOKEN,
      g_param_spec_string ("token", "Token",
          "Clients must give this token (?token=... or Authorization: "
          "Bearer ...), or get 401 (empty: none needed). Write-only",
          NULL, G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_TOKEN_FILE,
      g_param_spec_string ("token-file", "Token file",
          "File holding the token (a trailing newline is ignored; must not "
          "be readable by group or others); read when set, even to the "
          "same path", NULL, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_SLOW_CLIENT_POLICY,
      g_param_spec_enum ("slow-client-policy", "Slow client policy",
          "What happens to a client that falls behind the queue limits",
          GST_TYPE_MCP_SLOW_CLIENT_POLICY, DEFAULT_SLOW_CLIENT_POLICY,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_QUEUE_BYTES,
      g_param_spec_uint64 ("max-queue-bytes", "Max queue bytes",
          "How far (payload bytes) a client may fall behind, beyond the "
          "burst (0: no limit)", 0, G_MAXUINT64, DEFAULT_MAX_QUEUE_BYTES,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_QUEUE_TIME,
      g_param_spec_uint64 ("max-queue-time", "Max queue time",
          "How far (ns) a client may fall behind, beyond the burst (0: no "
          "limit)", 0, G_MAXUINT64, DEFAULT_MAX_QUEUE_TIME,
          rw | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstMcastGateway::get-stats:
   *
   * Returns a "mcastgateway-stats" structure: totals, and per channel its
   * counters and clients ("channel-list").
   */
  signals[SIGNAL_GET_STATS] = g_signal_new_class_handler ("get-stats",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_mcast_gateway_get_stats), NULL, NULL, NULL,
      GST_TYPE_STRUCTURE, 0);

  gst_element_class_set_static_metadata (element_class,
      "Multicast channel gateway", "Source/Sink/Network",
      "Serves any multicast group a player asks for by URL over HTTP "
      "(udpxy-compatible), joined on demand, with fast channel start",
      "mcastproxy developers");
  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_mcast_gateway_change_state);
  gst_type_mark_as_plugin_api (GST_TYPE_MCP_BURST, 0);
}

static void
gst_mcast_gateway_init (GstMcastGateway * self)
{
  gst_mcp_tcp_settings_init_spec (&self->tcp, &tcp_spec);
  self->timeout = DEFAULT_TIMEOUT;
  self->linger = DEFAULT_LINGER;
  self->batch_latency = DEFAULT_BATCH_LATENCY;
  self->rejoin_interval = DEFAULT_REJOIN_INTERVAL;
  self->buffer_size = DEFAULT_BUFFER_SIZE;
  self->burst = DEFAULT_BURST;
  self->burst_max_bytes = DEFAULT_BURST_MAX_BYTES;
  self->max_clients = DEFAULT_MAX_CLIENTS;
  self->max_channel_clients = DEFAULT_MAX_CHANNEL_CLIENTS;
  self->max_channels = DEFAULT_MAX_CHANNELS;
  self->slow_client_policy = DEFAULT_SLOW_CLIENT_POLICY;
  self->max_queue_bytes = DEFAULT_MAX_QUEUE_BYTES;
  self->max_queue_time = DEFAULT_MAX_QUEUE_TIME;
  g_rec_mutex_init (&self->lock);
  self->channels = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) chan_free);
  self->clients_told = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
  gst_mcp_events_init (&self->events, GST_ELEMENT (self));
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
}

/* For what may be a secret. */
static void
forget_string (gchar ** s)
{
  if (*s)
    memset (*s, 0, strlen (*s));
  g_clear_pointer (s, g_free);
}

static void
gst_mcast_gateway_finalize (GObject * object)
{
  GstMcastGateway *self = GST_MCAST_GATEWAY (object);

  gst_mcp_tcp_settings_clear (&self->tcp);
  g_free (self->multicast_iface);
  g_free (self->groups);
  g_free (self->playlist);
  forget_string (&self->token);
  g_free (self->token_file);
  g_hash_table_unref (self->channels);
  g_hash_table_unref (self->clients_told);
  gst_mcp_events_clear (&self->events);
  g_rec_mutex_clear (&self->lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
set_string (gchar ** field, const GValue * value)
{
  g_free (*field);
  *field = g_value_dup_string (value);
}

/* ---- settings that change while the element runs ----------------------- */

static gboolean
is_prepared (GstMcastGateway * self)
{
  gboolean prepared;

  g_rec_mutex_lock (&self->lock);
  prepared = self->prepared;
  g_rec_mutex_unlock (&self->lock);
  return prepared;
}

/* The token clients must give: token, else the content of token_file;
 * NULL when neither is set. */
static gboolean
load_token (const gchar * token, const gchar * token_file, gchar ** value,
    GError ** error)
{
  GBytes *t;

  *value = NULL;
  if (token && *token) {
    *value = g_strdup (token);
    return TRUE;
  }
  if (!token_file || !*token_file)
    return TRUE;
  t = mcp_auth_load_secret_file (token_file, error);
  if (!t)
    return FALSE;
  *value = g_strndup (g_bytes_get_data (t, NULL), g_bytes_get_size (t));
  g_bytes_unref (t);
  return TRUE;
}

static void
set_groups (GstMcastGateway * self, const GValue * value)
{
  GPtrArray *networks = NULL;

  if (is_prepared (self)) {
    if (!gst_mcp_parse_networks_live (GST_ELEMENT (self), "groups",
            g_value_get_string (value), &networks))
      return;
    g_rec_mutex_lock (&self->lock);
    if (self->prepared) {
      GPtrArray *old = self->networks;

      self->networks = networks;
      networks = old;
    }
    g_rec_mutex_unlock (&self->lock);
    g_clear_pointer (&networks, g_ptr_array_unref);
    GST_INFO_OBJECT (self, "groups now %s, for new requests (clients "
        "already served stay)", g_value_get_string (value) ?
        g_value_get_string (value) : "any");
  }
  GST_OBJECT_LOCK (self);
  set_string (&self->groups, value);
  GST_OBJECT_UNLOCK (self);
}

/* Set while running, even to the same path: read at once. */
static void
set_playlist (GstMcastGateway * self, const GValue * value)
{
  Playlist p;
  GError *err = NULL;

  if (is_prepared (self)) {
    if (!playlist_read (g_value_get_string (value), &p, &err)) {
      GST_ELEMENT_WARNING (self, RESOURCE, OPEN_READ,
          ("Ignored a new value of property \"playlist\": %s; the old "
              "playlist stays in effect", err->message), (NULL));
      g_error_free (err);
      return;
    }
    g_rec_mutex_lock (&self->lock);
    if (self->prepared) {
      Playlist old = self->playlist_file;

      self->playlist_file = p;
      p = old;
    }
    g_rec_mutex_unlock (&self->lock);
    playlist_clear (&p);
    GST_INFO_OBJECT (self, "playlist now %s", g_value_get_string (value) ?
        g_value_get_string (value) : "none");
  }
  GST_OBJECT_LOCK (self);
  set_string (&self->playlist, value);
  GST_OBJECT_UNLOCK (self);
}

/* token or token-file (prop_id); token wins, as at start. */
static void
set_token (GstMcastGateway * self, guint prop_id, const GValue * value)
{
  const gchar *name = prop_id == PROP_TOKEN ? "token" : "token-file";
  gchar *token, *token_file, *token_value = NULL;
  GError *err = NULL;
  gboolean ok = TRUE;

  if (is_prepared (self)) {
    GST_OBJECT_LOCK (self);
    token = g_strdup (prop_id == PROP_TOKEN ? g_value_get_string (value) :
        self->token);
    token_file = g_strdup (prop_id == PROP_TOKEN_FILE ?
        g_value_get_string (value) : self->token_file);
    GST_OBJECT_UNLOCK (self);
    ok = load_token (token, token_file, &token_value, &err);
    forget_string (&token);
    g_free (token_file);
    if (!ok) {
      /* the value itself is not told: it may be the token */
      GST_ELEMENT_WARNING (self, RESOURCE, OPEN_READ,
          ("Ignored a new value of property \"%s\": invalid token-file: %s; "
              "the old token stays in effect", name, err->message), (NULL));
      g_error_free (err);
      return;
    }
    g_rec_mutex_lock (&self->lock);
    if (self->prepared) {
      gchar *old = self->token_value;

      self->token_value = token_value;
      token_value = old;
    }
    g_rec_mutex_unlock (&self->lock);
    forget_string (&token_value);
    GST_INFO_OBJECT (self, "%s changed: the token is asked for new requests",
        name);
  }
  GST_OBJECT_LOCK (self);
  if (prop_id == PROP_TOKEN) {
    forget_string (&self->token);
    self->token = g_value_dup_string (value);
  } else {
    set_string (&self->token_file, value);
  }
  GST_OBJECT_UNLOCK (self);
}

/* The queue limits of new channels and of every channel open. */
static void
configure_channels (GstMcastGateway * self)
{
  guint64 max_bytes, max_time;
  GstMcpSlowClientPolicy policy;
  GHashTableIter it;
  gpointer value;

  GST_OBJECT_LOCK (self);
  max_bytes = self->max_queue_bytes;
  max_time = self->max_queue_time;
  policy = self->slow_client_policy;
  GST_OBJECT_UNLOCK (self);
  g_rec_mutex_lock (&self->lock);
  self->shared.max_queue_bytes = max_bytes;
  self->shared.max_queue_time = max_time;
  self->shared.policy = policy;
  g_hash_table_iter_init (&it, self->channels);
  while (g_hash_table_iter_next (&it, NULL, &value))
    gst_mcp_fanout_configure (gst_mcp_channel_get_fanout (((Chan *)
                value)->ch), max_bytes, max_time, policy, FALSE, FALSE);
  g_rec_mutex_unlock (&self->lock);
}

/* The settings that need more than a new value when the element runs:
 * read or parsed at once and put in place under lock; one that cannot be
 * is ignored with a warning, the old one staying in effect (and in the
 * property). Before NULL->READY they are only kept: prepare() checks
 * them. TRUE when prop_id is one of them. */
static gboolean
set_live (GstMcastGateway * self, guint prop_id, const GValue * value)
{
  switch (prop_id) {
    case PROP_GROUPS:
      set_groups (self, value);
      return TRUE;
    case PROP_PLAYLIST:
      set_playlist (self, value);
      return TRUE;
    case PROP_TOKEN:
    case PROP_TOKEN_FILE:
      set_token (self, prop_id, value);
      return TRUE;
    default:
      return FALSE;
  }
}

static void
gst_mcast_gateway_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstMcastGateway *self = GST_MCAST_GATEWAY (object);

  if (!gst_mcp_props_accept (object, pspec, value)
      || gst_mcp_security_set_allow (GST_ELEMENT (self), &self->tcp.sec,
          prop_id, value)
      || set_live (self, prop_id, value))
    return;
  GST_OBJECT_LOCK (self);
  if (gst_mcp_tcp_settings_set (&self->tcp, prop_id, value)) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  switch (prop_id) {
    case PROP_MULTICAST_IFACE:
      set_string (&self->multicast_iface, value);
      break;
    case PROP_BUFFER_SIZE:
      self->buffer_size = g_value_get_int (value);
      break;
    case PROP_TIMEOUT:
      self->timeout = g_value_get_uint64 (value);
      break;
    case PROP_BATCH_LATENCY:
      self->batch_latency = g_value_get_uint64 (value);
      break;
    case PROP_LINGER:
      self->linger = g_value_get_uint64 (value);
      break;
    case PROP_REJOIN_INTERVAL:
      self->rejoin_interval = g_value_get_uint64 (value);
      break;
    case PROP_BURST:
      self->burst = g_value_get_enum (value);
      break;
    case PROP_BURST_MAX_BYTES:
      self->burst_max_bytes = g_value_get_uint64 (value);
      break;
    case PROP_MAX_CLIENTS:
      self->max_clients = g_value_get_uint (value);
      break;
    case PROP_MAX_CHANNEL_CLIENTS:
      self->max_channel_clients = g_value_get_uint (value);
      break;
    case PROP_MAX_CHANNELS:
      self->max_channels = g_value_get_uint (value);
      break;
    case PROP_SLOW_CLIENT_POLICY:
      self->slow_client_policy = g_value_get_enum (value);
      break;
    case PROP_MAX_QUEUE_BYTES:
      self->max_queue_bytes = g_value_get_uint64 (value);
      break;
    case PROP_MAX_QUEUE_TIME:
      self->max_queue_time = g_value_get_uint64 (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
  if (prop_id == PROP_SLOW_CLIENT_POLICY || prop_id == PROP_MAX_QUEUE_BYTES
      || prop_id == PROP_MAX_QUEUE_TIME)
    configure_channels (self);
}

static void
gst_mcast_gateway_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstMcastGateway *self = GST_MCAST_GATEWAY (object);

  GST_OBJECT_LOCK (self);
  if (gst_mcp_tcp_settings_get (&self->tcp, prop_id, value)) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  switch (prop_id) {
    case PROP_MULTICAST_IFACE:
      g_value_set_string (value, self->multicast_iface);
      break;
    case PROP_BUFFER_SIZE:
      g_value_set_int (value, self->buffer_size);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint64 (value, self->timeout);
      break;
    case PROP_BATCH_LATENCY:
      g_value_set_uint64 (value, self->batch_latency);
      break;
    case PROP_LINGER:
      g_value_set_uint64 (value, self->linger);
      break;
    case PROP_REJOIN_INTERVAL:
      g_value_set_uint64 (value, self->rejoin_interval);
      break;
    case PROP_BURST:
      g_value_set_enum (value, self->burst);
      break;
    case PROP_BURST_MAX_BYTES:
      g_value_set_uint64 (value, self->burst_max_bytes);
      break;
    case PROP_MAX_CLIENTS:
      g_value_set_uint (value, self->max_clients);
      break;
    case PROP_MAX_CHANNEL_CLIENTS:
      g_value_set_uint (value, self->max_channel_clients);
      break;
    case PROP_MAX_CHANNELS:
      g_value_set_uint (value, self->max_channels);
      break;
    case PROP_GROUPS:
      g_value_set_string (value, self->groups);
      break;
    case PROP_PLAYLIST:
      g_value_set_string (value, self->playlist);
      break;
    case PROP_TOKEN_FILE:
      g_value_set_string (value, self->token_file);
      break;
    case PROP_SLOW_CLIENT_POLICY:
      g_value_set_enum (value, self->slow_client_policy);
      break;
    case PROP_MAX_QUEUE_BYTES:
      g_value_set_uint64 (value, self->max_queue_bytes);
      break;
    case PROP_MAX_QUEUE_TIME:
      g_value_set_uint64 (value, self->max_queue_time);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ---- state ------------------------------------------------------------- */

/* Reads and checks what the settings name (interfaces, groups, playlist),
 * before anything runs; posts one clear error when one is wrong. */
static gboolean
prepare (GstMcastGateway * self)
{
  gchar *ifaces, *groups, *playlist, *token, *token_file;
  GError *err = NULL;
  GArray *ifindexes = NULL;
  GPtrArray *networks = NULL;
  Playlist pl = { 0 };
  gchar *token_value = NULL;
  gboolean ok = FALSE;
  guint i;

  GST_OBJECT_LOCK (self);
  ifaces = g_strdup (self->multicast_iface);
  groups = g_strdup (self->groups);
  playlist = g_strdup (self->playlist);
  token = g_strdup (self->token);
  token_file = g_strdup (self->token_file);
  GST_OBJECT_UNLOCK (self);

  ifindexes = mcp_parse_interfaces (ifaces, &err);
  if (!ifindexes) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("Invalid multicast-iface: %s", err->message), (NULL));
    goto done;
  }
  self->ifnames = g_ptr_array_new_with_free_func (g_free);
  if (ifaces && *ifaces) {
    gchar **names = g_strsplit (ifaces, ",", -1);

    for (i = 0; names[i]; i++) {
      gchar *n = g_strstrip (names[i]);

      if (*n)
        g_ptr_array_add (self->ifnames, g_strdup (n));
    }
    g_strfreev (names);
  }
  if (groups && *groups) {
    networks = mcp_parse_networks (groups, &err);
    if (!networks) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Invalid groups: %s", err->message), (NULL));
      goto done;
    }
  }
  if (!playlist_read (playlist, &pl, &err)) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Cannot read playlist %s", playlist), ("%s", err->message));
    goto done;
  }
  if (!load_token (token, token_file, &token_value, &err)) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Invalid token-file: %s", err->message), (NULL));
    goto done;
  }
  /* from now on set_live() replaces them */
  g_rec_mutex_lock (&self->lock);
  self->networks = networks;
  self->playlist_file = pl;
  self->token_value = token_value;
  self->prepared = TRUE;
  g_rec_mutex_unlock (&self->lock);
  networks = NULL;
  memset (&pl, 0, sizeof (pl));
  token_value = NULL;
  ok = TRUE;
done:
  g_clear_pointer (&networks, g_ptr_array_unref);
  playlist_clear (&pl);
  forget_string (&token_value);
  g_clear_error (&err);
  if (ifindexes)
    g_array_unref (ifindexes);
  g_free (ifaces);
  g_free (groups);
  g_free (playlist);
  g_free (token_file);
  forget_string (&token);
  return ok;
}

static void
release (GstMcastGateway * self)
{
  g_clear_pointer (&self->ifnames, g_ptr_array_unref);
  g_rec_mutex_lock (&self->lock);
  self->prepared = FALSE;
  g_clear_pointer (&self->networks, g_ptr_array_unref);
  playlist_clear (&self->playlist_file);
  forget_string (&self->token_value);
  g_rec_mutex_unlock (&self->lock);
}

static void
start (GstMcastGateway * self)
{
  GMainContext *ctx;
  guint i;
  gint fd;

  g_rec_mutex_lock (&self->lock);
  GST_OBJECT_LOCK (self);
  self->shared.buffer_size = self->buffer_size;
  self->shared.timeout = self->timeout;
  self->shared.batch_latency = self->batch_latency;
  self->shared.burst_max_bytes =
      self->burst == GST_MCP_BURST_KEYFRAME ? self->burst_max_bytes : 0;
  self->shared.max_queue_bytes = self->max_queue_bytes;
  self->shared.max_queue_time = self->max_queue_time;
  self->shared.policy = self->slow_client_policy;
  GST_OBJECT_UNLOCK (self);
  g_rec_mutex_unlock (&self->lock);

  self->started = g_get_monotonic_time ();
  self->requests = self->status_400 = self->status_401 = self->status_403 = 0;
  self->status_404 = self->status_503 = self->status_504 = 0;
  self->channels_opened = self->channels_closed = self->clients_total = 0;
  self->bursts = self->datagrams_received = self->bytes_received = 0;
  self->datagrams_sent = self->bytes_sent = 0;
  self->n_connections = 0;
  {
    static const gdouble bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
      0.5, 1, 2.5, 5
    };
    self->zap = mcp_prom_histogram_new (bounds, G_N_ELEMENTS (bounds));
  }
  self->slot_memory = g_malloc (SLOTS * SLOT_SIZE);
  for (i = 0; i < SLOTS; i++) {
    self->slots[i].data = self->slot_memory + i * SLOT_SIZE;
    self->slots[i].capacity = SLOT_SIZE;
  }
  self->membership = mcp_membership_driver_new (0, log_membership, self);
  mcp_membership_set_rejoin_interval (mcp_membership_driver_get_table
      (self->membership), self->rejoin_interval,
      g_get_monotonic_time () * 1000);
  mcp_membership_set_notify (mcp_membership_driver_get_table (self->membership),
      gst_mcp_events_membership, &self->events);

  self->shared.owner = GST_ELEMENT (self);
  self->shared.endpoint = self->endpoint;
  self->shared.lock = &self->lock;
  self->shared.membership = mcp_membership_driver_get_table (self->membership);
  self->shared.ifnames = self->ifnames;
  self->shared.origin_id = (guint64) g_random_int () << 32 | g_random_int ();
  self->shared.slots = self->slots;
  self->shared.n_slots = SLOTS;
  self->shared.fanout_funcs = &channel_fanout_funcs;
  self->shared.funcs = &channel_funcs;

  self->lobby = gst_mcp_fanout_new_shared (GST_ELEMENT (self), &lobby_funcs,
      self, &self->lock);
  gst_mcp_fanout_start (self->lobby, self->endpoint);
  mcp_endpoint_start (self->endpoint, "mcastgateway", &endpoint_funcs, self);

  ctx = mcp_endpoint_get_context (self->endpoint);
  gst_mcp_events_set_context (&self->events, ctx);
  fd = mcp_membership_driver_get_fd (self->membership);
  if (fd >= 0) {
    self->membership_source = g_unix_fd_source_new (fd, G_IO_IN);
    g_source_set_callback (self->membership_source,
        (GSourceFunc) (GCallback) on_interfaces, self, NULL);
    g_source_attach (self->membership_source, ctx);
  }
  self->tick_source = g_timeout_source_new (TICK_MS);
  g_source_set_callback (self->tick_source, on_tick, self, NULL);
  g_source_attach (self->tick_source, ctx);
  gst_mcp_stats_timer_start (&self->stats_timer, GST_ELEMENT (self),
      self->tcp.stats_interval, (GstMcpStatsFunc) gst_mcast_gateway_get_stats);
}

static void
stop (GstMcastGateway * self)
{
  gst_mcp_stats_timer_stop (&self->stats_timer);
  /* the context goes with the thread: what is told from now on waits for
   * the flush below */
  gst_mcp_events_set_context (&self->events, NULL);
  /* joins the network thread: from here on this thread is alone */
  mcp_endpoint_stop (self->endpoint);
  if (self->membership_source) {
    g_source_destroy (self->membership_source);
    g_clear_pointer (&self->membership_source, g_source_unref);
  }
  g_source_destroy (self->tick_source);
  g_clear_pointer (&self->tick_source, g_source_unref);

  g_rec_mutex_lock (&self->lock);
  {
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init (&it, self->channels);
    while (g_hash_table_iter_next (&it, NULL, &value))
      gst_mcp_fanout_stop (gst_mcp_channel_get_fanout (((Chan *) value)->ch));
  }
  gst_mcp_fanout_stop (self->lobby);
  g_hash_table_remove_all (self->channels);
  gst_mcp_fanout_free (self->lobby);
  self->lobby = NULL;
  g_hash_table_remove_all (self->clients_told);
  g_rec_mutex_unlock (&self->lock);
  g_clear_pointer (&self->membership, mcp_membership_driver_free);
  /* what the endpoint's thread had no time to post, and the ends */
  gst_mcp_events_flush (&self->events);
  g_clear_pointer (&self->slot_memory, g_free);
  g_clear_pointer (&self->zap, mcp_prom_histogram_free);
  gst_mcp_security_release (&self->tcp.sec);
}

static GstStateChangeReturn
gst_mcast_gateway_change_state (GstElement * element, GstStateChange transition)
{
  GstMcastGateway *self = GST_MCAST_GATEWAY (element);
  GstStateChangeReturn ret;

  /* Everything that can fail is done at NULL->READY, with one error. */
  if (transition == GST_STATE_CHANGE_NULL_TO_READY) {
    if (!gst_mcp_props_check (element) || !prepare (self)
        || !gst_mcp_tcp_open (element, &self->tcp, &self->endpoint)
        || !gst_mcp_tcp_prepare_security (element, &self->tcp)) {
      gst_mcp_security_release (&self->tcp.sec);
      gst_mcp_tcp_close (element, &self->tcp, &self->endpoint);
      release (self);
      return GST_STATE_CHANGE_FAILURE;
    }
    start (self);
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if ((ret == GST_STATE_CHANGE_FAILURE
          && transition == GST_STATE_CHANGE_NULL_TO_READY)
      || transition == GST_STATE_CHANGE_READY_TO_NULL) {
    stop (self);
    gst_mcp_tcp_close (element, &self->tcp, &self->endpoint);
    release (self);
  }
  /* no data flows through pads: it is live, and never prerolls */
  if (ret == GST_STATE_CHANGE_SUCCESS
      && (transition == GST_STATE_CHANGE_READY_TO_PAUSED
          || transition == GST_STATE_CHANGE_PLAYING_TO_PAUSED))
    ret = GST_STATE_CHANGE_NO_PREROLL;
  return ret;
}

/* ---- statistics -------------------------------------------------------- */

static GstStructure *
gst_mcast_gateway_get_stats (GstMcastGateway * self)
{
  GValue list = G_VALUE_INIT;
  GstStructure *s;
  guint64 dr, br, ds, bs, bursts;
  guint clients = 0;

  g_value_init (&list, GST_TYPE_ARRAY);
  g_rec_mutex_lock (&self->lock);
  dr = self->datagrams_received;
  br = self->bytes_received;
  ds = self->datagrams_sent;
  bs = self->bytes_sent;
  bursts = self->bursts;
  if (self->lobby) {
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init (&it, self->channels);
    while (g_hash_table_iter_next (&it, NULL, &value)) {
      Chan *c = value;
      GstStructure *cs = gst_mcp_channel_get_stats (c->ch);
      GValue v = G_VALUE_INIT;
      guint64 x;
      guint n;

      gst_structure_set (cs,
          "clients-waiting", G_TYPE_UINT, g_list_length (c->waiting),
          "lingering", G_TYPE_BOOLEAN, c->linger != NULL,
          "clients-total", G_TYPE_UINT64, c->clients_total, NULL);
      if (gst_structure_get_uint64 (cs, "datagrams-received", &x))
        dr += x;
      if (gst_structure_get_uint64 (cs, "bytes-received", &x))
        br += x;
      if (gst_structure_get_uint64 (cs, "datagrams-sent", &x))
        ds += x;
      if (gst_structure_get_uint64 (cs, "bytes-sent", &x))
        bs += x;
      if (gst_structure_get_uint64 (cs, "bursts", &x))
        bursts += x;
      if (gst_structure_get_uint (cs, "clients", &n))
        clients += n;
      g_value_init (&v, GST_TYPE_STRUCTURE);
      gst_value_set_structure (&v, cs);
      gst_structure_free (cs);
      gst_value_array_append_and_take_value (&list, &v);
    }
  }
  s = gst_structure_new ("mcastgateway-stats",
      "channels", G_TYPE_UINT, g_hash_table_size (self->channels),
      "clients", G_TYPE_UINT, clients,
      "connections", G_TYPE_UINT, self->n_connections,
      "clients-total", G_TYPE_UINT64, self->clients_total,
      "requests", G_TYPE_UINT64, self->requests,
      "requests-bad", G_TYPE_UINT64, self->status_400,
      "requests-unauthorized", G_TYPE_UINT64, self->status_401,
      "requests-forbidden", G_TYPE_UINT64, self->status_403,
      "requests-not-found", G_TYPE_UINT64, self->status_404,
      "requests-refused-limit", G_TYPE_UINT64, self->status_503,
      "requests-timed-out", G_TYPE_UINT64, self->status_504,
      "channels-opened", G_TYPE_UINT64, self->channels_opened,
      "channels-closed", G_TYPE_UINT64, self->channels_closed,
      "datagrams-received", G_TYPE_UINT64, dr,
      "bytes-received", G_TYPE_UINT64, br,
      "datagrams-sent", G_TYPE_UINT64, ds,
      "bytes-sent", G_TYPE_UINT64, bs,
      "bursts", G_TYPE_UINT64, bursts,
      "uptime-duration", G_TYPE_UINT64, self->started ?
      (guint64) (g_get_monotonic_time () - self->started) * 1000 : 0, NULL);
  g_rec_mutex_unlock (&self->lock);
  gst_mcp_security_add_stats (GST_ELEMENT (self), &self->tcp.sec, s);
  gst_structure_take_value (s, "channel-list", &list);
  return s;
}
