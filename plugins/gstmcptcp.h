/* mcastproxy — what the TCP elements share: the listener/caller settings
 * and their properties, and opening the endpoint. tcpsplitsink and
 * tcpsplitsrc take them all; tcpmeshrouter, which listens and calls at
 * once, a subset (GstMcpTcpSpec). */
#ifndef __GST_MCP_TCP_H__
#define __GST_MCP_TCP_H__

#include <gst/gst.h>

#include "gstmcpenums.h"
#include "gstmcpsecurity.h"
#include "mcp-endpoint.h"

G_BEGIN_DECLS

/* How a connection of an element ended. */
typedef struct
{
  const gchar *address;         /* the peer's "ip:port" */
  const gchar *reason;          /* one line, for the log */
  gint caller;                  /* the endpoint's caller number, or
                                 * MCP_ENDPOINT_ACCEPTED */
  gboolean was_active;          /* it had finished its handshake */
  gboolean refused;             /* turned away at its handshake
                                 * (mcp_conn_was_refused) */
  gboolean stopping;            /* closed because the fan-out stopped */
} GstMcpConnEnd;

/* Property ids 1 .. GST_MCP_TCP_PROP_LAST - 1 are these; an element's own
 * properties follow. */
enum
{
  GST_MCP_TCP_PROP_MODE = 1,
  GST_MCP_TCP_PROP_HOST,
  GST_MCP_TCP_PROP_PORT,
  GST_MCP_TCP_PROP_CURRENT_PORT,
  GST_MCP_TCP_PROP_FRAMING,
  GST_MCP_TCP_PROP_HANDSHAKE_TIMEOUT,
  GST_MCP_TCP_PROP_RECONNECT_DELAY,
  GST_MCP_TCP_PROP_RECONNECT_MAX_DELAY,
  GST_MCP_TCP_PROP_PEER_ID,
  GST_MCP_TCP_PROP_STATS_INTERVAL,
  GST_MCP_TCP_PROP_QOS_DSCP,
  GST_MCP_TCP_PROP_LAST,
};

#define GST_MCP_TCP_DEFAULT_HOST NULL
#define GST_MCP_TCP_DEFAULT_PORT 5100
#define GST_MCP_TCP_DEFAULT_FRAMING GST_MCP_FRAMING_AUTO
#define GST_MCP_TCP_DEFAULT_HANDSHAKE_TIMEOUT (5 * GST_SECOND)
#define GST_MCP_TCP_DEFAULT_RECONNECT_DELAY (100 * GST_MSECOND)
#define GST_MCP_TCP_DEFAULT_RECONNECT_MAX_DELAY (5 * GST_SECOND)
#define GST_MCP_TCP_DEFAULT_PEER_ID 0
#define GST_MCP_TCP_DEFAULT_STATS_INTERVAL 0
#define GST_MCP_TCP_DEFAULT_QOS_DSCP -1
#define GST_MCP_TCP_CONNECT_TIMEOUT (10 * GST_SECOND)

/* The shared settings an element leaves out. */
typedef enum
{
  GST_MCP_TCP_OMIT_MODE = 1 << 0,       /* it listens and calls at once */
  GST_MCP_TCP_OMIT_FRAMING = 1 << 1,    /* it speaks mpx only */
  GST_MCP_TCP_OMIT_PEER_ID = 1 << 2,    /* a property of its own sets peer_id */
  GST_MCP_TCP_OMIT_CALLER = 1 << 3,     /* it only listens: no reconnect-* */
  GST_MCP_TCP_OMIT_MPX_SECURITY = 1 << 4,       /* it serves HTTP only: no
                                                 * auth-*, tls-ca,
                                                 * keepalive-interval,
                                                 * peer-timeout */
} GstMcpTcpOmit;

/* How an element presents the shared settings; static (the param specs
 * keep its strings). A NULL text stands for the one of tcpsplitsink and
 * tcpsplitsrc. */
typedef struct
{
  GstMcpTcpOmit omit;
  GstMcpMode default_mode;
  guint default_port;
  /* When the settings read as the endpoint is made (reconnect-delay,
   * reconnect-max-delay) and those read at start (peer-id, stats-interval,
   * the security settings) may change: 0 for in NULL only, or
   * GST_PARAM_MUTABLE_READY. */
  GParamFlags open_flag;
  GParamFlags start_flag;
  const gchar *host_blurb;
  const gchar *port_blurb;
  const gchar *framing_blurb;
  const gchar *handshake_timeout_blurb;
  const gchar *reconnect_delay_blurb;
  const gchar *reconnect_max_delay_blurb;
  const gchar *peer_id_blurb;
  /* what a listener that cannot listen could not listen for, in its
   * error: "Could not listen for <listening_for>" */
  const gchar *listening_for;
} GstMcpTcpSpec;

/* Under the element's object lock. */
typedef struct
{
  const GstMcpTcpSpec *spec;    /* NULL: all settings, standard texts */
  GstMcpMode mode;
  gchar *host;
  guint port;
  guint current_port;
  GstMcpFraming framing;
  guint64 handshake_timeout;
  guint64 reconnect_delay;
  guint64 reconnect_max_delay;
  guint64 peer_id;
  guint64 stats_interval;
  gint qos_dscp;
  GstMcpSecurity sec;           /* and its properties */
} GstMcpTcpSettings;

/* start_flag: when a setting read at start may change — the sink starts at
 * NULL->READY (0: in NULL only), the source at READY->PAUSED
 * (GST_PARAM_MUTABLE_READY). Settings read per new connection may change
 * while PLAYING; those that shape the socket only in NULL. */
void gst_mcp_tcp_install_properties (GObjectClass * klass,
    GstMcpMode default_mode, GParamFlags start_flag,
    const gchar * framing_blurb, const gchar * peer_id_blurb);
void gst_mcp_tcp_settings_init (GstMcpTcpSettings * s, GstMcpMode mode);
/* The same for the settings a spec describes. */
void gst_mcp_tcp_install_properties_spec (GObjectClass * klass,
    const GstMcpTcpSpec * spec);
void gst_mcp_tcp_settings_init_spec (GstMcpTcpSettings * s,
    const GstMcpTcpSpec * spec);
void gst_mcp_tcp_settings_clear (GstMcpTcpSettings * s);
/* FALSE when prop_id is not one of the shared ones. */
gboolean gst_mcp_tcp_settings_set (GstMcpTcpSettings * s, guint prop_id,
    const GValue * value);
gboolean gst_mcp_tcp_settings_get (GstMcpTcpSettings * s, guint prop_id,
    GValue * value);

/* Creates *ep from the settings unless it exists: a listener is bound at
 * once (call it at NULL->READY so that current-port is readable in READY,
 * which it notifies), a caller is prepared. Posts an element error and
 * returns FALSE when it cannot. */
gboolean gst_mcp_tcp_open (GstElement * element, GstMcpTcpSettings * s,
    McpEndpoint ** ep);
/* The same without mode: *ep listens on host:port of the settings and
 * calls each "host:port" of peers (mcp_parse_host_port_list()), with the
 * reconnect settings. Posts an element error ("Invalid peer ...", or one
 * of not listening) and returns FALSE when it cannot. */
gboolean gst_mcp_tcp_open_peers (GstElement * element, GstMcpTcpSettings * s,
    const gchar * peers, McpEndpoint ** ep);
void gst_mcp_tcp_close (GstElement * element, GstMcpTcpSettings * s,
    McpEndpoint ** ep);

/* At start, before the endpoint runs: gst_mcp_security_prepare() for the
 * mode of the settings. */
gboolean gst_mcp_tcp_prepare_security (GstElement * element,
    GstMcpTcpSettings * s);

/* Endpoint thread, for every new connection before it is used: marks it
 * with qos-dscp. */
void gst_mcp_tcp_prepare_socket (GstElement * element, GstMcpTcpSettings * s,
    GSocket * socket);

/* McpEndpointFuncs.accept_failed for an element (user_data): a warning. */
void gst_mcp_tcp_accept_failed (McpEndpoint * ep, const gchar * reason,
    guint64 retry_in, gpointer element);

/* What the user sees of an element's callers: a warning on the first
 * failed attempt and, rate-limited, on later ones and on lost connections;
 * an info message when a warned-about caller gets through; for the stats,
 * each caller's state ("caller-list") and the failed attempts in all
 * ("connect-failures"). Internally locked: any thread. */
typedef struct _GstMcpCallers GstMcpCallers;

GstMcpCallers *gst_mcp_callers_new (GstElement * element);
void gst_mcp_callers_free (GstMcpCallers * callers);
/* At start: one entry per caller of ep (none for a listener). */
void gst_mcp_callers_reset (GstMcpCallers * callers, McpEndpoint * ep);
/* An attempt of caller number `caller` failed: reason (a few words), and
 * when the next starts (ns; 0: not known). Also for a connection that
 * ended during its handshake (TLS, authentication, ...). */
void gst_mcp_callers_failed (GstMcpCallers * callers, gint caller,
    const gchar * reason, guint64 retry_in);
/* Its connection finished the handshake. */
void gst_mcp_callers_connected (GstMcpCallers * callers, gint caller);
/* Its working connection ended; it reconnects. */
void gst_mcp_callers_lost (GstMcpCallers * callers, gint caller,
    const gchar * reason);
void gst_mcp_callers_add_stats (GstMcpCallers * callers, GstStructure * s);

/* A connection of the element ended :
 * an accepted one turned away is a refusal (gst_mcp_security_refused); a
 * caller's that never finished its handshake is a failed attempt, one
 * that worked and ended is lost. */
void gst_mcp_tcp_connection_ended (GstElement * element, GstMcpSecurity * sec,
    GstMcpCallers * callers, const GstMcpConnEnd * removal);

/* 0 in the settings means: pick one at random. */
guint64 gst_mcp_tcp_pick_peer_id (guint64 configured);

G_END_DECLS

#endif /* __GST_MCP_TCP_H__ */
